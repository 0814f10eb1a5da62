"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useCallback, useState } from "react";
import { useCluster } from "../../lib/console-context";
import { errorMessage } from "../../lib/errors";
import { useInvalidateTopology } from "../../lib/invalidate";
import { useTRPC } from "../../lib/trpc";
import { DiffList } from "../config/version-diff";
import { useToast } from "../toast";
import { Button, Dialog, ErrorNotice, Skeleton, SkeletonRows } from "../ui";
import { EffectSummary } from "./effect-summary";
import { useFollowRollout } from "./follow-rollout";
import { RolloutProgress } from "./rollout-progress";
import type { Applied, ChangePreview, ChangeSpec } from "./types";

type Phase =
  | { step: "preview" }
  | { step: "applying" }
  | { step: "rollout"; version: number | null; undone: boolean }
  | { step: "undoing" };

function versionOf(result: Applied): number | null | undefined {
  if (result && typeof result === "object" && "version" in result) {
    const v = (result as { version: unknown }).version;
    return typeof v === "number" ? v : null;
  }
  return undefined;
}

/**
 * The one dry-run experience every topology change goes through: the change's
 * effect and diff (change.preview), Apply, then per-agent rollout (ACK/NACK)
 * and an Undo when the change has an inverse. Returns `open(spec)` and the
 * dialog element to render.
 */
export function useChangeDialog(): { open: (spec: ChangeSpec) => void; dialog: ReactNode } {
  const [spec, setSpec] = useState<ChangeSpec | null>(null);
  const [nonce, setNonce] = useState(0);
  const open = useCallback((s: ChangeSpec) => {
    setSpec(s);
    setNonce((n) => n + 1);
  }, []);
  const dialog = spec ? <ChangeDialog key={nonce} spec={spec} onClose={() => setSpec(null)} /> : null;
  return { open, dialog };
}

function ChangeDialog({ spec, onClose }: { spec: ChangeSpec; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { clusterId } = useCluster();
  const invalidate = useInvalidateTopology();
  const toast = useToast();
  const followRollout = useFollowRollout();
  const [phase, setPhase] = useState<Phase>({ step: "preview" });
  const [error, setError] = useState<unknown>(null);
  const [applied, setApplied] = useState(false);
  // The caller hears of the change when the dialog closes, so a form can stay
  // mounted (and this dialog with it) while the rollout is shown.
  const close = () => {
    onClose();
    if (applied) spec.onApplied?.();
    else spec.onCancelled?.();
  };
  const preview = useQuery({
    ...trpc.change.preview.queryOptions(spec.request),
    staleTime: 0,
    gcTime: 0,
    retry: false,
    refetchOnWindowFocus: false,
  });

  /** A mutation that returns no version: the latest version, if it moved past the preview's. */
  async function resolveVersion(result: Applied, before: number | null): Promise<number | null> {
    const v = versionOf(result);
    if (v !== undefined) return v;
    const versions = await queryClient.fetchQuery({
      ...trpc.config.versions.queryOptions({ clusterId }),
      staleTime: 0,
    });
    const latest = versions[0]?.version ?? null;
    return latest !== null && latest !== before ? latest : null;
  }

  async function apply() {
    setError(null);
    setPhase({ step: "applying" });
    try {
      const result = await spec.apply();
      const version = await resolveVersion(result, preview.data?.currentVersion ?? null);
      await invalidate();
      setApplied(true);
      setPhase({ step: "rollout", version, undone: false });
      const shown = toast({
        tone: version !== null ? "info" : "success",
        title: spec.done,
        body:
          version !== null
            ? `Version v${version} is rolling out…`
            : "Nothing to push: the running config already matches.",
        persist: version !== null,
      });
      if (version !== null) void followRollout(shown, spec.done, version);
    } catch (err) {
      setError(err);
      setPhase({ step: "preview" });
    }
  }

  async function undo() {
    if (!spec.undo) return;
    setError(null);
    setPhase({ step: "undoing" });
    try {
      const before = phase.step === "rollout" ? phase.version : null;
      const result = await spec.undo();
      const version = await resolveVersion(result, before);
      await invalidate();
      setPhase({ step: "rollout", version, undone: true });
      const shown = toast({
        tone: "info",
        title: "Undone",
        body: version !== null ? `Version v${version} restores the previous state; rolling out…` : undefined,
        persist: version !== null,
      });
      if (version !== null) void followRollout(shown, "Undone", version);
    } catch (err) {
      setError(err);
      toast({ tone: "error", title: "Undo failed", body: errorMessage(err) });
      setPhase({ step: "rollout", version: null, undone: false });
    }
  }

  const busy = phase.step === "applying" || phase.step === "undoing";
  const data = preview.data;

  return (
    <Dialog open onClose={busy ? () => {} : close} title={spec.title} wide>
      <div className="space-y-4" data-testid="change-dialog">
        {phase.step === "preview" || phase.step === "applying" ? (
          <>
            {preview.error ? (
              <ErrorNotice error={preview.error} />
            ) : !data ? (
              <div role="status" aria-busy="true" aria-label="Computing the effect" className="space-y-2">
                <Skeleton className="h-5 w-3/4" />
                <SkeletonRows rows={3} />
              </div>
            ) : (
              <PreviewBody spec={spec} preview={data} />
            )}
            <ErrorNotice error={error} />
            <div className="flex justify-end gap-2">
              <Button onClick={close} disabled={busy}>
                Cancel
              </Button>
              <Button
                variant={spec.danger ? "danger" : "primary"}
                onClick={apply}
                disabled={busy || !data}
                data-testid="change-apply"
              >
                {phase.step === "applying" ? "Applying…" : spec.confirmLabel}
              </Button>
            </div>
          </>
        ) : (
          <>
            {phase.step === "rollout" && phase.version !== null ? (
              <RolloutProgress version={phase.version} />
            ) : phase.step === "rollout" ? (
              <p className="text-sm text-zinc-600 dark:text-zinc-300">
                The running configuration already matched; no agent needed a new version.
              </p>
            ) : (
              <SkeletonRows rows={2} />
            )}
            <ErrorNotice error={error} />
            <div className="flex justify-end gap-2">
              {spec.undo && phase.step === "rollout" && !phase.undone ? (
                <Button onClick={undo} disabled={busy}>
                  Undo
                </Button>
              ) : null}
              {phase.step === "undoing" ? <Button disabled>Undoing…</Button> : null}
              <Button variant="primary" onClick={close} disabled={busy}>
                Done
              </Button>
            </div>
          </>
        )}
      </div>
    </Dialog>
  );
}

function PreviewBody({ spec, preview }: { spec: ChangeSpec; preview: ChangePreview }) {
  const next = preview.currentVersion === null ? 1 : preview.currentVersion + 1;
  return (
    <>
      {spec.summary ? (
        <div
          className="rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900 dark:bg-indigo-500/10 dark:text-indigo-200"
          data-testid="change-summary"
        >
          {spec.summary(preview)}
        </div>
      ) : null}
      {!preview.changed ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-300">
          This compiles to the configuration already running: nothing will be pushed.
        </p>
      ) : (
        <p className="text-[13px] text-zinc-500 dark:text-zinc-400">
          Dry run against <span className="font-mono">v{preview.currentVersion ?? 0}</span>; applying creates{" "}
          <span className="font-mono">v{next}</span>.
        </p>
      )}
      <EffectSummary preview={preview} />
      <details
        className="group rounded-md border border-zinc-200 dark:border-zinc-800"
        open={preview.diff.length <= 6}
      >
        <summary className="cursor-pointer select-none px-3 py-1.5 text-[13px] font-medium">
          Configuration diff ({preview.diff.length} change{preview.diff.length === 1 ? "" : "s"})
        </summary>
        <div className="max-h-64 overflow-y-auto px-3 pb-2">
          <DiffList changes={preview.diff} label="Changes this would make" />
        </div>
      </details>
    </>
  );
}

/** "N agents will receive version V+1" for summaries. */
export function agentsSentence(preview: ChangePreview): string {
  const n = preview.agents.length;
  const next = (preview.currentVersion ?? 0) + 1;
  return `${n} agent${n === 1 ? "" : "s"} will receive version ${next}.`;
}
