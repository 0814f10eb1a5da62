"use client";

import { useCallback } from "react";
import { useCluster } from "../../lib/console-context";
import { errorMessage } from "../../lib/errors";
import { plural } from "../../lib/format";
import { useTRPCClient } from "../../lib/trpc";
import type { ToastHandle } from "../toast";
import type { Rollout } from "./types";

/** How long a toast follows a rollout before it says what is still pending. */
export const ROLLOUT_TOAST_TIMEOUT_MS = 30_000;
const POLL_MS = 500;

/** The toast that ends a rollout: applied, refused (with the agent's reason) or still pending. */
export function rolloutOutcome(
  title: string,
  r: Rollout,
  timedOut: boolean,
): { tone: "success" | "error" | "info"; title: string; body: string; persist?: boolean } | null {
  const v = `v${r.version}`;
  const rejected = r.agents.filter((a) => a.state === "rejected");
  if (rejected.length > 0) {
    const first = rejected[0]!;
    return {
      tone: "error",
      title: `${title}: ${v} refused`,
      body: `${first.name} sent a NACK: ${first.error ?? "no reason given"}${
        rejected.length > 1 ? ` (and ${plural(rejected.length - 1, "other agent")})` : ""
      }. It keeps serving its previous config.`,
    };
  }
  const applied = r.agents.filter((a) => a.state === "applied");
  const offline = r.agents.filter((a) => a.state === "offline");
  if (r.agents.length === 0) {
    return {
      tone: "success",
      title,
      body: `Version ${v} saved; no agent in this cluster yet, they get it when they connect.`,
    };
  }
  if (r.settled && applied.length === 0) {
    return {
      tone: "info",
      title: `${title}: ${v} waiting for agents`,
      body: `No agent is connected; ${offline.map((a) => a.name).join(", ")} get${offline.length === 1 ? "s" : ""} it on reconnecting.`,
    };
  }
  if (r.settled) {
    return {
      tone: "success",
      title: `${title}: ${v} applied`,
      body:
        offline.length === 0
          ? `${plural(applied.length, "agent")} ACKed it.`
          : `${applied.length} of ${plural(r.agents.length, "agent")} ACKed it; ${offline.map((a) => a.name).join(", ")} ${offline.length === 1 ? "is" : "are"} offline and get${offline.length === 1 ? "s" : ""} it on reconnecting.`,
    };
  }
  if (!timedOut) return null;
  const pending = r.agents.filter((a) => a.state === "pending");
  return {
    tone: "info",
    title: `${title}: ${v} still pending`,
    body: `${applied.length} of ${plural(r.agents.length, "agent")} applied it; no answer from ${pending.map((a) => a.name).join(", ")} after ${ROLLOUT_TOAST_TIMEOUT_MS / 1000} s. See Agents.`,
  };
}

/**
 * Follows a rollout in a toast, whether or not the dialog that started it is
 * still open: "rolling out" until every connected agent answered (ACK or NACK),
 * or until ROLLOUT_TOAST_TIMEOUT_MS, then what happened.
 */
export function useFollowRollout(): (toast: ToastHandle, title: string, version: number) => Promise<void> {
  const client = useTRPCClient();
  const { clusterId } = useCluster();
  return useCallback(
    async (toast, title, version) => {
      const deadline = Date.now() + ROLLOUT_TOAST_TIMEOUT_MS;
      let last: Rollout | undefined;
      for (;;) {
        try {
          last = await client.change.rollout.query({ clusterId, version });
        } catch (err) {
          toast.update({ tone: "error", title: `${title}: rollout unknown`, body: errorMessage(err) });
          return;
        }
        const timedOut = Date.now() >= deadline;
        const outcome = rolloutOutcome(title, last, timedOut);
        if (outcome) {
          toast.update(outcome);
          return;
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
    [client, clusterId],
  );
}
