"use client";

import { cx } from "../ui";
import { RANGES, type Range } from "./types";

/** Live 5 min · Live 15 min · 1 h · 24 h · 7 d, as a segmented control. */
export function RangePicker({
  value,
  onChange,
  className,
}: {
  value: Range;
  onChange: (range: Range) => void;
  className?: string;
}) {
  return (
    <fieldset
      className={cx(
        "inline-flex h-8 items-center rounded-md border border-zinc-300 bg-white p-0.5 dark:border-zinc-700 dark:bg-zinc-900",
        className,
      )}
    >
      <legend className="sr-only">Time range</legend>
      {RANGES.map((r) => {
        const active = r.value === value;
        return (
          <button
            key={r.value}
            type="button"
            aria-pressed={active}
            onClick={() => onChange(r.value)}
            className={cx(
              "inline-flex h-full items-center gap-1.5 whitespace-nowrap rounded px-2.5 text-xs font-medium transition-colors",
              active
                ? "bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                : "text-zinc-500 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100",
            )}
          >
            {r.live ? (
              <span
                aria-hidden
                className={cx(
                  "h-1.5 w-1.5 rounded-full",
                  active ? "bg-emerald-500" : "bg-zinc-300 dark:bg-zinc-600",
                )}
              />
            ) : null}
            {r.label}
          </button>
        );
      })}
    </fieldset>
  );
}

/** Whether the stream is flowing, for a small indicator next to the picker. */
export type LiveState = "off" | "connecting" | "live" | "reconnecting";

export function LiveIndicator({ state }: { state: LiveState }) {
  if (state === "off") return <span aria-hidden className="inline-block w-28" />;
  const text = state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span
      role="status"
      className={cx(
        "inline-flex w-28 items-center justify-end gap-1.5 text-xs",
        state === "live" ? "text-emerald-600 dark:text-emerald-400" : "text-zinc-500 dark:text-zinc-400",
      )}
    >
      <span className="relative flex h-2 w-2">
        {state === "live" ? (
          <span className="absolute inline-flex h-full w-full animate-ping rounded-full bg-emerald-500 opacity-50" />
        ) : null}
        <span
          className={cx(
            "relative inline-flex h-2 w-2 rounded-full",
            state === "live" ? "bg-emerald-500" : "bg-amber-500",
          )}
        />
      </span>
      {text}
    </span>
  );
}
