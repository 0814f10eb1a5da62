"use client";

import { type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, useId } from "react";
import { errorMessage } from "../lib/errors";
import { cx } from "./ui";

const control =
  "w-full rounded-md border border-zinc-300 bg-white px-2.5 text-sm outline-none transition-colors placeholder:text-zinc-400 focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 disabled:opacity-60 aria-[invalid]:border-red-500 dark:border-zinc-700 dark:bg-zinc-950";

function Described({ id, hint, error }: { id: string; hint?: ReactNode; error?: string | undefined }) {
  if (error)
    return (
      <span id={`${id}-msg`} role="alert" className="mt-1 block text-xs text-red-600 dark:text-red-400">
        {error}
      </span>
    );
  if (hint)
    return (
      <span id={`${id}-msg`} className="mt-1 block text-xs text-zinc-500 dark:text-zinc-400">
        {hint}
      </span>
    );
  return null;
}

/** A labelled input with a hint or its error under it; ids are unique so many forms can share a page. */
export function TextField({
  label,
  error,
  hint,
  className,
  inputClassName,
  ...input
}: {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  className?: string;
  inputClassName?: string;
} & InputHTMLAttributes<HTMLInputElement>) {
  const auto = useId();
  const id = input.id ?? auto;
  return (
    <div className={className}>
      <label htmlFor={id} className="mb-1 block text-[13px] font-medium text-zinc-700 dark:text-zinc-300">
        {label}
      </label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error || hint ? `${id}-msg` : undefined}
        className={cx(control, "h-9", inputClassName)}
        {...input}
      />
      <Described id={id} hint={hint} error={error} />
    </div>
  );
}

export function SelectField({
  label,
  error,
  hint,
  className,
  children,
  ...select
}: {
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  className?: string;
  children: ReactNode;
} & SelectHTMLAttributes<HTMLSelectElement>) {
  const auto = useId();
  const id = select.id ?? auto;
  return (
    <div className={className}>
      <label htmlFor={id} className="mb-1 block text-[13px] font-medium text-zinc-700 dark:text-zinc-300">
        {label}
      </label>
      <select
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error || hint ? `${id}-msg` : undefined}
        className={cx(control, "h-9 pr-8")}
        {...select}
      >
        {children}
      </select>
      <Described id={id} hint={hint} error={error} />
    </div>
  );
}

export function CheckboxField({
  label,
  hint,
  className,
  ...input
}: { label: string; hint?: ReactNode; className?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const auto = useId();
  const id = input.id ?? auto;
  return (
    <div className={cx("flex items-start gap-2", className)}>
      <input
        id={id}
        type="checkbox"
        className="mt-0.5 h-4 w-4 rounded border-zinc-300 accent-indigo-600 dark:border-zinc-700"
        {...input}
      />
      <div>
        <label htmlFor={id} className="block text-[13px] font-medium text-zinc-700 dark:text-zinc-300">
          {label}
        </label>
        {hint ? <span className="block text-xs text-zinc-500 dark:text-zinc-400">{hint}</span> : null}
      </div>
    </div>
  );
}

/** The error of a failed submit when no field-level message explains it. */
export function FormError({
  error,
  fields,
  shown,
}: {
  error: unknown;
  fields: Record<string, string>;
  shown: readonly string[];
}) {
  const unexplained = Object.entries(fields).filter(([k]) => !shown.includes(k));
  if (unexplained.length > 0) {
    return (
      <p role="alert" className="text-sm text-red-600 dark:text-red-400">
        {unexplained.map(([k, v]) => (k === "_" ? v : `${k}: ${v}`)).join(" ")}
      </p>
    );
  }
  if (!error || Object.keys(fields).length > 0) return null;
  return (
    <p role="alert" className="text-sm text-red-600 dark:text-red-400">
      {errorMessage(error)}
    </p>
  );
}

export function FormActions({ children }: { children: ReactNode }) {
  return <div className="flex items-center justify-end gap-2 pt-1">{children}</div>;
}

export function Fieldset({ legend, children }: { legend: string; children: ReactNode }) {
  return (
    <fieldset className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
      <legend className="px-1 text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
        {legend}
      </legend>
      {children}
    </fieldset>
  );
}
