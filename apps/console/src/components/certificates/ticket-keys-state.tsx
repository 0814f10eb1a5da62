"use client";

import { useQuery } from "@tanstack/react-query";
import { formatDateTime, relativeTime } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";
import { Card } from "../ui";

/** "12 h", "90 min": the rotation interval as the setting reads it. */
function interval(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/**
 * The cluster's session-ticket key ring: when it was last rotated and when it
 * rotates next (the console's scheduler does it, FULCRUM_TICKET_KEY_ROTATION_MINUTES).
 * The keys themselves are never shown or returned by any API.
 */
export function TicketKeysState({ clusterId, now }: { clusterId: string; now: number }) {
  const trpc = useTRPC();
  const state = useQuery({
    ...trpc.certificate.ticketKeys.queryOptions({ clusterId }),
    refetchInterval: 60_000,
  });
  const ring = state.data?.ring;
  return (
    <section className="mt-8" aria-label="Session-ticket keys">
      <h2 className="mb-3 text-sm font-semibold">Session resumption</h2>
      <Card className="p-5 text-[13px]">
        <p className="mb-3 text-zinc-600 dark:text-zinc-300">
          Every agent of this cluster encrypts TLS session tickets with the same keys, so a client resumes its
          session on any of them. The keys rotate every{" "}
          {state.data ? interval(state.data.rotationIntervalMs) : "…"}.
        </p>
        {ring ? (
          <dl className="grid grid-cols-[auto_1fr] gap-x-6 gap-y-1" data-testid="ticket-keys-state">
            <dt className="text-zinc-500">Generation</dt>
            <dd>{ring.generation}</dd>
            <dt className="text-zinc-500">Last rotation</dt>
            <dd title={formatDateTime(ring.rotatedAt)}>{relativeTime(ring.rotatedAt, now)}</dd>
            <dt className="text-zinc-500">Next rotation</dt>
            <dd title={formatDateTime(ring.nextRotationAt)}>{relativeTime(ring.nextRotationAt, now)}</dd>
          </dl>
        ) : state.isPending ? null : (
          <p className="text-zinc-500">No keys yet: they are made when the cluster's first agent connects.</p>
        )}
      </Card>
    </section>
  );
}
