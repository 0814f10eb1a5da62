"use client";

import { useNow } from "../../lib/format";
import { cx } from "../ui";
import { formatClock } from "./format";
import type { BackendHealth } from "./types";
import type { Transition } from "./use-health-history";

/**
 * One colour per status, for the board's dot and the timeline's bar alike, so a
 * colour means the same thing everywhere. "unknown" (no report) is an outline,
 * never a fill that could pass for "disabled".
 */
const FILL: Record<BackendHealth, string> = {
  up: "bg-emerald-500",
  down: "bg-red-600",
  ejected: "bg-orange-500",
  draining: "bg-amber-300",
  disabled: "bg-slate-500 dark:bg-slate-400",
  unknown: "border border-dashed border-zinc-400 bg-transparent dark:border-zinc-500",
};

const TEXT: Record<BackendHealth, string> = {
  up: "text-emerald-700 dark:text-emerald-400",
  down: "text-red-600 dark:text-red-400",
  ejected: "text-orange-600 dark:text-orange-400",
  draining: "text-amber-700 dark:text-amber-400",
  disabled: "text-slate-600 dark:text-slate-300",
  unknown: "text-zinc-400 dark:text-zinc-500",
};

/** The words the board and the timeline use. */
export const HEALTH_WORD: Record<BackendHealth, string> = {
  up: "up",
  down: "down",
  ejected: "ejected",
  draining: "draining",
  disabled: "disabled",
  unknown: "unknown",
};

/** A backend's live health as a coloured dot and its word (up, down, ejected…). */
export function HealthStatus({ status, className }: { status: BackendHealth; className?: string }) {
  return (
    <span
      data-status={status}
      className={cx("inline-flex items-center gap-1.5 text-[13px]", TEXT[status], className)}
    >
      <span aria-hidden className={cx("inline-flex h-2 w-2 shrink-0 rounded-full", FILL[status])} />
      {HEALTH_WORD[status]}
    </span>
  );
}

export interface TimelineBackend {
  id: string;
  label: string;
}

/**
 * Health over the window, one bar per backend: what the agents reported, from the
 * state carried in at the window's start (see metrics.healthTimeline), then the
 * live stream's changes. Gaps: the backend was not in the pool then.
 */
export function HealthTimeline({
  backends,
  transitions,
  windowMs,
  caption,
}: {
  backends: readonly TimelineBackend[];
  transitions: Record<string, Transition[]>;
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
          const segments: { from: number; to: number; status: BackendHealth; reason?: string }[] = [];
          for (let i = 0; i < list.length; i++) {
            const status = list[i]!.status;
            const from = Math.max(list[i]!.t, start);
            const to = Math.min(i + 1 < list.length ? list[i + 1]!.t : now, now);
            if (status === null || to <= start || to <= from) continue;
            segments.push({ from, to, status, reason: list[i]!.reason });
          }
          const changes = list.filter((c) => c.t > start).length;
          return (
            <li key={b.id} className="grid grid-cols-[10rem_1fr_5.5rem] items-center gap-3">
              <span className="truncate font-mono text-xs" title={b.label}>
                {b.label}
              </span>
              <div
                role="img"
                aria-label={`Health of ${b.label}: ${HEALTH_WORD[current]} now, ${changes} change${changes === 1 ? "" : "s"} in the window`}
                data-testid={`health-timeline-${b.label}`}
                className="relative h-3 overflow-hidden rounded-sm bg-zinc-100 dark:bg-zinc-800/60"
              >
                {segments.map((s) => (
                  <span
                    key={`${s.from}-${s.status}`}
                    data-status={s.status}
                    data-from={s.from}
                    data-to={s.to}
                    title={`${HEALTH_WORD[s.status]} from ${formatClock(s.from, false)} to ${formatClock(s.to, false)}${s.reason ? `: ${s.reason}` : ""}`}
                    className={cx("absolute inset-y-0 rounded-[1px]", FILL[s.status])}
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
      <div className="mt-2 flex flex-wrap items-center justify-between gap-2 text-[11px] text-zinc-500 dark:text-zinc-400">
        <span>{caption}</span>
        <span className="flex flex-wrap gap-3">
          {(["up", "draining", "ejected", "down", "disabled", "unknown"] as const).map((s) => (
            <span key={s} className="inline-flex items-center gap-1">
              <span aria-hidden className={cx("h-2 w-2 rounded-sm", FILL[s])} />
              {HEALTH_WORD[s]}
            </span>
          ))}
        </span>
      </div>
    </div>
  );
}
