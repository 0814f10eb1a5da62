"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { useCluster } from "../../lib/console-context";
import { useTRPC } from "../../lib/trpc";
import { Badge, ErrorNotice, SkeletonRows } from "../ui";

const STATE = {
  applied: { tone: "green", word: "ACK" },
  rejected: { tone: "red", word: "NACK" },
  pending: { tone: "amber", word: "pending" },
  offline: { tone: "zinc", word: "offline" },
} as const;

/** Polls change.rollout every ~500 ms until every connected agent has ACKed or NACKed `version`. */
export function RolloutProgress({
  version,
  onSettled,
}: {
  version: number;
  onSettled?: (ok: boolean) => void;
}) {
  const trpc = useTRPC();
  const { clusterId } = useCluster();
  const rollout = useQuery({
    ...trpc.change.rollout.queryOptions({ clusterId, version }),
    refetchInterval: (q) => (q.state.data?.settled ? false : 500),
    staleTime: 0,
  });
  const data = rollout.data;
  const settled = data?.settled ?? false;
  const rejected = data?.agents.some((a) => a.state === "rejected") ?? false;
  useEffect(() => {
    if (settled) onSettled?.(!rejected);
  }, [settled, rejected, onSettled]);
  if (rollout.error) return <ErrorNotice error={rollout.error} />;
  if (!data) return <SkeletonRows rows={2} />;
  const applied = data.agents.filter((a) => a.state === "applied").length;
  return (
    <div data-testid="rollout" aria-live="polite">
      <p className="mb-2 text-[13px] text-zinc-600 dark:text-zinc-300">
        Version <span className="font-mono font-medium">v{version}</span>:{" "}
        {data.agents.length === 0
          ? "no agents in this cluster yet; they receive it when they connect."
          : `${applied} of ${data.agents.length} agents applied it${data.settled ? "." : "…"}`}
      </p>
      <ul className="divide-y divide-zinc-100 rounded-md border border-zinc-200 text-[13px] dark:divide-zinc-800 dark:border-zinc-800">
        {data.agents.map((a) => (
          <li key={a.id} className="flex items-center gap-2 px-3 py-1.5" data-testid={`rollout-${a.name}`}>
            <span className="font-medium">{a.name}</span>
            <Badge tone={STATE[a.state].tone}>{STATE[a.state].word}</Badge>
            {a.error ? (
              <span className="min-w-0 truncate text-red-600 dark:text-red-400">{a.error}</span>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
