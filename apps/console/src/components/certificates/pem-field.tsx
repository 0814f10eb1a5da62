"use client";

import { useId, useState } from "react";

/**
 * A PEM text area with a file picker that fills it: people have either the
 * text (copied from a CA's page) or the files (from certbot, openssl).
 */
export function PemField({
  label,
  name,
  error,
  hint,
  placeholder,
}: {
  label: string;
  name: string;
  error?: string | undefined;
  hint: string;
  placeholder: string;
}) {
  const id = useId();
  const [value, setValue] = useState("");
  const [fileError, setFileError] = useState<string | null>(null);
  const message = error ?? fileError ?? undefined;
  return (
    <div>
      <div className="mb-1 flex items-center justify-between gap-2">
        <label htmlFor={id} className="block text-[13px] font-medium text-zinc-700 dark:text-zinc-300">
          {label}
        </label>
        <label className="cursor-pointer text-xs font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          Choose file…
          <input
            type="file"
            accept=".pem,.crt,.cer,.key,.txt"
            className="sr-only"
            aria-label={`${label}: choose a file`}
            onChange={async (e) => {
              const file = e.currentTarget.files?.[0];
              if (!file) return;
              // The server refuses more than 64 KiB anyway; reading a huge file would only stall the page.
              if (file.size > 256 * 1024) {
                setFileError(`${file.name} is ${Math.round(file.size / 1024)} KiB: not a PEM file.`);
                return;
              }
              setFileError(null);
              setValue(await file.text());
            }}
          />
        </label>
      </div>
      <textarea
        id={id}
        name={name}
        value={value}
        onChange={(e) => setValue(e.currentTarget.value)}
        rows={6}
        spellCheck={false}
        autoComplete="off"
        placeholder={placeholder}
        aria-invalid={message ? true : undefined}
        aria-describedby={`${id}-msg`}
        className="w-full rounded-md border border-zinc-300 bg-white px-2.5 py-2 font-mono text-xs outline-none transition-colors placeholder:text-zinc-400 focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/20 aria-[invalid]:border-red-500 dark:border-zinc-700 dark:bg-zinc-950"
      />
      {message ? (
        <span id={`${id}-msg`} role="alert" className="mt-1 block text-xs text-red-600 dark:text-red-400">
          {message}
        </span>
      ) : (
        <span id={`${id}-msg`} className="mt-1 block text-xs text-zinc-500 dark:text-zinc-400">
          {hint}
        </span>
      )}
    </div>
  );
}
