"use client";

import { useNow } from "../../lib/format";
import { cx, StatusDot } from "../ui";
import { formatClock } from "./format";
import type { BackendHealth } from "./types";

const DOT: Record<BackendHealth, "green" | "amber" | "red" | "zinc"> = {
  up: "green",
  down: "red",
  ejected: "red",
  draining: "amber",
  disabled: "zinc",
  unknown: "zinc",
};

const BAR: Record<BackendHealth, string> = {
  up: "bg-emerald-500/80",
  down: "bg-red-500",
  ejected: "bg-orange-500",
  draining: "bg-amber-400",
  disabled: "bg-zinc-300 dark:bg-zinc-600",
  unknown: "bg-zinc-200 dark:bg-zinc-800",
};

const TEXT: Record<BackendHealth, string> = {
  up: "text-emerald-700 dark:text-emerald-400",
  down: "text-red-600 dark:text-red-400",
  ejected: "text-orange-600 dark:text-orange-400",
  draining: "text-amber-700 dark:text-amber-400",
  disabled: "text-zinc-500 dark:text-zinc-400",
  unknown: "text-zinc-400 dark:text-zinc-500",
};

/** A backend's live health as a coloured dot and its word (up, down, ejected…). */
export function HealthStatus({ status, className }: { status: BackendHealth; className?: string }) {
  return <StatusDot color={DOT[status]} label={status} className={cx(TEXT[status], className)} />;
}

export interface TimelineBackend {
  id: string;
  label: string;
}

/**
 * Health over the window, one bar per backend, built from the status changes the
 * live stream reported (the part before the page opened shows as unknown).
 */
export function HealthTimeline({
  backends,
  transitions,
  windowMs,
  caption,
}: {
  backends: readonly TimelineBackend[];
  transitions: Record<string, { t: number; status: BackendHealth }[]>;
  windowMs: number;
  caption?: string;
}) {
  const now = useNow(1000);
  const start = now - windowMs;
  return (
    <div>
      <ul className="space-y-1.5">
        {backends.map((b) => {
          const list = transitions[b.id] ?? [];
          const current = list.at(-1)?.status ?? "unknown";
          const segments: { from: number; to: number; status: BackendHealth }[] = [];
          for (let i = 0; i < list.length; i++) {
            const from = Math.max(list[i]!.t, start);
            const to = i + 1 < list.length ? list[i + 1]!.t : now;
            if (to > start && to > from) segments.push({ from, to, status: list[i]!.status });
          }
          const changes = list.filter((c) => c.t >= start).length;
          return (
            <li key={b.id} className="grid grid-cols-[10rem_1fr_5.5rem] items-center gap-3">
              <span className="truncate font-mono text-xs" title={b.label}>
                {b.label}
              </span>
              <div
                role="img"
                aria-label={`Health of ${b.label}: ${current} now, ${changes} change${changes === 1 ? "" : "s"} in the window`}
                className="relative h-3 overflow-hidden rounded-sm bg-zinc-100 dark:bg-zinc-800/60"
              >
                {segments.map((s) => (
                  <span
                    key={`${s.from}-${s.status}`}
                    title={`${s.status} from ${formatClock(s.from, false)}`}
                    className={cx("absolute inset-y-0", BAR[s.status])}
                    style={{
                      left: `${((s.from - start) / windowMs) * 100}%`,
                      width: `${((s.to - s.from) / windowMs) * 100}%`,
                    }}
                  />
                ))}
              </div>
              <HealthStatus status={current} className="justify-self-end text-xs" />
            </li>
          );
        })}
      </ul>
      <div className="mt-2 flex items-center justify-between text-[11px] text-zinc-400 dark:text-zinc-500">
        <span>{caption}</span>
        <span className="flex gap-3">
          {(["up", "draining", "ejected", "down", "disabled"] as const).map((s) => (
            <span key={s} className="inline-flex items-center gap-1">
              <span aria-hidden className={cx("h-2 w-2 rounded-sm", BAR[s])} />
              {s}
            </span>
          ))}
        </span>
      </div>
    </div>
  );
}
