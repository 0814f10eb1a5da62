import type { InputHTMLAttributes } from "react";

/** A labelled input with its server-side error under it. */
export function Field({
  label,
  error,
  hint,
  ...input
}: { label: string; error?: string | undefined; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = input.id ?? input.name;
  return (
    <label htmlFor={id} className="block">
      <span className="mb-1 block text-sm font-medium">{label}</span>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        className="w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm outline-none focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 aria-[invalid]:border-red-500 dark:border-zinc-700 dark:bg-zinc-950"
        {...input}
      />
      {hint && !error ? <span className="mt-1 block text-xs text-zinc-500">{hint}</span> : null}
      {error ? (
        <span id={`${id}-error`} role="alert" className="mt-1 block text-xs text-red-600 dark:text-red-400">
          {error}
        </span>
      ) : null}
    </label>
  );
}
