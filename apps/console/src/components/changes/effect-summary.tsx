"use client";

import { plural } from "../../lib/format";
import { Badge, cx } from "../ui";
import type { ChangePreview } from "./types";

function pct(share: number): string {
  if (share === 0) return "0%";
  if (share < 0.01) return "<1%";
  return `${Math.round(share * 100)}%`;
}

function rate(v: number): string {
  return v >= 10 ? `${Math.round(v)}/s` : `${v.toFixed(1)}/s`;
}

const MEMBERSHIP = { joins: "green", leaves: "red", stays: "zinc" } as const;

/** The estimated effect of a change on traffic, per affected pool, from change.preview. */
export function EffectSummary({ preview }: { preview: ChangePreview }) {
  const { totals } = preview;
  return (
    <div className="space-y-3" data-testid="change-effect">
      <ul className="flex flex-wrap gap-x-4 gap-y-1 text-[13px] text-zinc-600 dark:text-zinc-300">
        <li>
          <span className="font-medium">{plural(preview.agents.length, "agent")}</span> receive
          {preview.agents.length === 1 ? "s" : ""} it
          {preview.agents.length > 0 ? (
            <span className="text-zinc-500"> ({preview.agents.map((a) => a.name).join(", ")})</span>
          ) : null}
        </li>
        <li>
          <span className="font-medium">{totals.connectionsToDrain}</span> in-flight connection
          {totals.connectionsToDrain === 1 ? "" : "s"} to drain
        </li>
        <li>
          <span className="font-medium">{totals.stickySessionsRepinned}</span> sticky session
          {totals.stickySessionsRepinned === 1 ? "" : "s"} re-pinned
        </li>
      </ul>
      {preview.pools.map((p) => (
        <div
          key={p.poolId}
          data-testid={`effect-pool-${p.name}`}
          className="rounded-md border border-zinc-200 dark:border-zinc-800"
        >
          <div className="flex flex-wrap items-center gap-2 border-b border-zinc-100 px-3 py-1.5 text-[13px] dark:border-zinc-800">
            <span className="font-mono font-medium">{p.name}</span>
            <Badge tone={p.change === "removed" ? "red" : p.change === "added" ? "green" : "zinc"}>
              {p.change}
            </Badge>
            <span className="text-zinc-500">{rate(p.rpsNow)} now</span>
            {p.routes === 0 && p.change !== "removed" ? (
              <span className="text-amber-700 dark:text-amber-400" data-testid="pool-unrouted">
                · no route sends traffic here: its backends get none
              </span>
            ) : null}
            {p.hashKeysMovedShare !== null ? (
              <span className="text-zinc-500">· {pct(p.hashKeysMovedShare)} of hash keys move</span>
            ) : null}
            {p.slowStartMs > 0 ? (
              <span className="text-zinc-500">· slow start {Math.round(p.slowStartMs / 1000)} s</span>
            ) : null}
          </div>
          <table className="w-full text-left text-[13px]">
            <thead className="sr-only">
              <tr>
                <th>Backend</th>
                <th>Membership</th>
                <th>Share before → after</th>
                <th>Requests/s now → after</th>
              </tr>
            </thead>
            <tbody>
              {p.backends.map((b) => {
                const delta = b.shareAfter - b.shareBefore;
                return (
                  <tr
                    key={b.id}
                    className="border-t border-zinc-100 first:border-t-0 dark:border-zinc-800/70"
                  >
                    <td className="px-3 py-1 font-medium">{b.name || `${b.address}:${b.port}`}</td>
                    <td className="px-2 py-1">
                      {b.membership !== "stays" ? (
                        <Badge tone={MEMBERSHIP[b.membership]}>{b.membership}</Badge>
                      ) : null}
                    </td>
                    <td className="px-2 py-1 tabular-nums">
                      <span className="text-zinc-500">{pct(b.shareBefore)}</span> →{" "}
                      <span
                        className={cx(
                          "font-medium",
                          delta > 0.005 && "text-emerald-700 dark:text-emerald-400",
                          delta < -0.005 && "text-red-600 dark:text-red-400",
                        )}
                      >
                        {pct(b.shareAfter)}
                      </span>
                    </td>
                    <td className="px-3 py-1 text-right tabular-nums text-zinc-500">
                      {rate(b.rpsNow)} → {rate(b.rpsAfter)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}
