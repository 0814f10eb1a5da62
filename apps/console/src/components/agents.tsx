"use client";

import { agentConsoleArgs } from "@fulcrum/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { z } from "zod";
import type { Agent, EnrollmentToken } from "../lib/api-types";
import { formatDateTime, isoString, relativeTime } from "../lib/format";
import { useTRPC } from "../lib/trpc";
import { mergeErrors, numberOrUndefined, validate } from "../lib/validate";
import { WorkersCell } from "./agent-workers";
import { FormActions, FormError, TextField } from "./form";
import { WarningIcon } from "./icons";
import {
  Badge,
  Button,
  ConfirmButton,
  CopyBlock,
  cx,
  DeleteButton,
  Dialog,
  StatusDot,
  Table,
  Td,
  Th,
} from "./ui";

/** Mirrors the server's newEnrollmentTokenInput (which lives in a server-only module). */
const enrollInput = z.object({
  clusterId: z.string().uuid(),
  name: z.string().trim().min(1, "Say what the token is for.").max(100),
  expiresInHours: z.coerce
    .number()
    .int()
    .min(1, "At least 1 hour.")
    .max(24 * 30, "At most 30 days (720 hours)."),
  maxUses: z.coerce.number().int().min(1, "At least 1.").max(1000, "At most 1000."),
});

export function AgentRow({
  agent,
  now,
  mayManage,
  onRevoke,
  onDelete,
}: {
  agent: Agent;
  now: number;
  mayManage: boolean;
  onRevoke: () => Promise<unknown>;
  onDelete: () => Promise<unknown>;
}) {
  const revoked = agent.revokedAt !== null;
  const since = agent.connected ? agent.connectedAt : (agent.disconnectedAt ?? agent.createdAt);
  const behind = agent.desiredVersion !== null && agent.appliedVersion !== agent.desiredVersion;
  return (
    <tr data-testid={`agent-${agent.name}`} className={cx(revoked && "opacity-60")}>
      <Td>
        <div className="flex items-center gap-2">
          <Link
            href={`/agents/${agent.id}`}
            className="font-mono text-[13px] font-medium hover:text-indigo-600 hover:underline dark:hover:text-indigo-400"
          >
            {agent.name}
          </Link>
          {revoked ? <Badge tone="red">revoked</Badge> : null}
        </div>
      </Td>
      <Td>
        <StatusDot
          color={agent.connected ? "green" : revoked ? "zinc" : "red"}
          pulse={agent.connected}
          label={agent.connected ? "connected" : "disconnected"}
        />
        <div className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400" title={formatDateTime(since)}>
          since {relativeTime(since, now)}
        </div>
      </Td>
      <Td className="whitespace-nowrap text-[13px]">
        <time dateTime={isoString(agent.lastHeartbeatAt)} title={formatDateTime(agent.lastHeartbeatAt)}>
          {agent.lastHeartbeatAt ? relativeTime(agent.lastHeartbeatAt, now) : "never"}
        </time>
      </Td>
      <Td className="font-mono text-xs">{agent.softwareVersion ?? "—"}</Td>
      <Td className="min-w-40 max-w-72">
        <WorkersCell agent={agent} now={now} />
      </Td>
      <Td>
        <span
          className={cx(
            "inline-flex items-center gap-1 font-mono text-xs tabular-nums",
            behind ? "font-semibold text-amber-600 dark:text-amber-400" : "text-zinc-700 dark:text-zinc-300",
          )}
          title={behind ? "This node runs an older configuration than the latest version" : "Up to date"}
        >
          {behind ? <WarningIcon /> : null}v{agent.appliedVersion ?? "—"}
          <span className="font-normal text-zinc-400"> / v{agent.desiredVersion ?? "—"}</span>
        </span>
      </Td>
      <Td className="max-w-72">
        {agent.lastError ? (
          <span className="line-clamp-2 text-xs text-red-600 dark:text-red-400" title={agent.lastError}>
            {agent.lastError}
          </span>
        ) : (
          <span className="text-xs text-zinc-400">—</span>
        )}
      </Td>
      {mayManage ? (
        <Td className="text-right">
          {revoked ? (
            <DeleteButton
              name={agent.name}
              kind="agent"
              body="Its record and status go away; its name can be enrolled again. Its history stays in the audit log."
              onDelete={onDelete}
            />
          ) : (
            <ConfirmButton
              title={`Revoke agent ${agent.name}?`}
              confirmLabel="Revoke"
              body="Its credential stops working and it is disconnected now. The node keeps serving its last configuration but receives no more updates until it is enrolled again."
              onConfirm={onRevoke}
            >
              Revoke<span className="sr-only"> {agent.name}</span>
            </ConfirmButton>
          )}
        </Td>
      ) : null}
    </tr>
  );
}

/** Where an agent keeps its credential on a node: outside any checkout, readable by root only. */
const NODE_STATE_DIR = "/var/lib/fulcrum-agent";
/** On the console's own machine, from the repository root: the agent's default, which .gitignore lists. */
const REPO_STATE_DIR = ".fulcrum-agent";

/**
 * The two ways to start an agent, each runnable as printed: from a clone of the repository, and
 * on a node that has only Node.js and the single-file agent the repository builds.
 */
function EnrollCommands({ secret }: { secret: string }) {
  // The address this browser reached the console at; a node elsewhere must be able to reach it too.
  const consoleUrl = window.location.origin;
  const args = `${agentConsoleArgs(consoleUrl)} --token ${secret}`;
  const code = "rounded bg-zinc-100 px-1 font-mono text-[12px] dark:bg-zinc-800";
  return (
    <div className="space-y-4 text-sm">
      <div className="space-y-2">
        <p>
          <span className="font-medium">On this machine</span>, from the root of the Fulcrum repository:
        </p>
        <CopyBlock
          value={`node apps/agent/bin/fulcrum-agent.js ${args} --state-dir ${REPO_STATE_DIR}`}
          testId="enroll-command"
          label="Run from the repository root"
        />
      </div>
      <div className="space-y-2">
        <p>
          <span className="font-medium">On another load-balancer node</span> (Node.js 20 or newer, no clone
          needed): build the agent once with <span className={code}>pnpm --filter @fulcrum/agent bundle</span>
          , copy <span className={code}>apps/agent/dist/fulcrum-agent.mjs</span> to the node, and run there:
        </p>
        <CopyBlock
          value={`node fulcrum-agent.mjs ${args} --state-dir ${NODE_STATE_DIR}`}
          testId="enroll-command-node"
          label="Run on the node, next to fulcrum-agent.mjs"
        />
      </div>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        The state directory holds the agent&apos;s credential and its last good configuration: keep it private
        and out of version control (<span className="font-mono">{REPO_STATE_DIR}</span> is git-ignored). The
        node must reach <span className="font-mono">{consoleUrl}</span>; add{" "}
        <span className="font-mono">--name &lt;node-name&gt;</span> if the host name is not what you want to
        see here. The agent appears in the list as soon as it connects.
      </p>
    </div>
  );
}

export function EnrollDialog({
  clusterId,
  open,
  onClose,
}: {
  clusterId: string;
  open: boolean;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const create = useMutation(trpc.agent.createEnrollmentToken.mutationOptions());
  const [clientErrors, setClientErrors] = useState<Record<string, string> | null>(null);
  const errors = mergeErrors(clientErrors, create.error);

  function close() {
    create.reset();
    setClientErrors(null);
    onClose();
  }

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const input = {
      clusterId,
      name: String(f.get("name") ?? ""),
      expiresInHours: numberOrUndefined(f.get("expiresInHours")),
      maxUses: numberOrUndefined(f.get("maxUses")),
    };
    const invalid = validate(enrollInput, input);
    setClientErrors(invalid);
    if (invalid) return;
    try {
      await create.mutateAsync(input);
      await queryClient.invalidateQueries({ queryKey: trpc.agent.enrollmentTokens.queryKey() });
    } catch {
      // shown below
    }
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      wide
      title="Enroll an agent"
      description="Create a one-time token, then start the agent with it on the load-balancer node. The agent trades the token for its own credential."
    >
      {create.data ? (
        <div className="space-y-4">
          <div className="flex items-start gap-2 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:border-amber-900 dark:bg-amber-950/40 dark:text-amber-200">
            <WarningIcon />
            <span>
              Copy a command now: the token in it is shown only once. It works{" "}
              {create.data.maxUses === 1 ? "once" : `${create.data.maxUses} times`} until{" "}
              {formatDateTime(create.data.expiresAt)}.
            </span>
          </div>
          <EnrollCommands secret={create.data.secret} />
          <FormActions>
            <Button variant="primary" onClick={close}>
              Done
            </Button>
          </FormActions>
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate className="space-y-4">
          <TextField
            label="Name"
            name="name"
            defaultValue="agent enrollment"
            autoFocus
            autoComplete="off"
            error={errors.name}
            hint="What the token is for, e.g. the node or the rollout."
          />
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              label="Expires in (hours)"
              name="expiresInHours"
              type="number"
              min={1}
              max={720}
              defaultValue={24}
              error={errors.expiresInHours}
            />
            <TextField
              label="Max uses"
              name="maxUses"
              type="number"
              min={1}
              max={1000}
              defaultValue={1}
              error={errors.maxUses}
              hint="How many nodes may enroll with it."
            />
          </div>
          <FormError
            error={create.error}
            fields={errors}
            shown={["name", "expiresInHours", "maxUses", "clusterId"]}
          />
          <FormActions>
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {create.isPending ? "Creating…" : "Create token"}
            </Button>
          </FormActions>
        </form>
      )}
    </Dialog>
  );
}

function tokenStatus(
  t: EnrollmentToken,
  now: number,
): { label: string; tone: "green" | "zinc" | "red" | "amber" } {
  if (t.revokedAt) return { label: "revoked", tone: "red" };
  if (new Date(t.expiresAt).getTime() < now) return { label: "expired", tone: "zinc" };
  if (t.uses >= t.maxUses) return { label: "used up", tone: "zinc" };
  return { label: "active", tone: "green" };
}

export function EnrollmentTokens({ clusterId, now }: { clusterId: string; now: number }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Refreshed with the agents table, so a token's use count moves when an agent enrolls.
  const tokens = useQuery({
    ...trpc.agent.enrollmentTokens.queryOptions({ clusterId }),
    refetchInterval: 2000,
  });
  const revoke = useMutation(trpc.agent.revokeEnrollmentToken.mutationOptions());
  if (tokens.isPending || !tokens.data) return null;
  if (tokens.data.length === 0) return null;
  return (
    <section className="mt-8">
      <h2 className="mb-2 text-sm font-semibold">Enrollment tokens</h2>
      <div className="rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
        <Table>
          <thead>
            <tr>
              <Th>Name</Th>
              <Th>Status</Th>
              <Th>Uses</Th>
              <Th>Expires</Th>
              <Th>Created</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => {
              const status = tokenStatus(t, now);
              return (
                <tr key={t.id}>
                  <Td className="text-[13px] font-medium">{t.name}</Td>
                  <Td>
                    <Badge tone={status.tone}>{status.label}</Badge>
                  </Td>
                  <Td className="font-mono text-xs tabular-nums">
                    {t.uses} / {t.maxUses}
                  </Td>
                  <Td className="text-[13px]">
                    <span title={formatDateTime(t.expiresAt)}>{relativeTime(t.expiresAt, now)}</span>
                  </Td>
                  <Td className="text-[13px]">
                    <span title={formatDateTime(t.createdAt)}>{relativeTime(t.createdAt, now)}</span>
                  </Td>
                  <Td className="text-right">
                    {status.label === "active" ? (
                      <ConfirmButton
                        title={`Revoke token “${t.name}”?`}
                        confirmLabel="Revoke"
                        body="Nodes can no longer enroll with it. Agents already enrolled keep working."
                        onConfirm={async () => {
                          await revoke.mutateAsync({ id: t.id });
                          await queryClient.invalidateQueries({
                            queryKey: trpc.agent.enrollmentTokens.queryKey(),
                          });
                        }}
                      >
                        Revoke<span className="sr-only"> token {t.name}</span>
                      </ConfirmButton>
                    ) : null}
                  </Td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      </div>
    </section>
  );
}
