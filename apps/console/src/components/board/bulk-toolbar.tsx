"use client";

import { useState } from "react";
import { plural } from "../../lib/format";
import { useTRPCClient } from "../../lib/trpc";
import { WEIGHT_MAX } from "../../server/domain/schemas";
import { agentsSentence } from "../changes/change-dialog";
import type { ChangeSpec } from "../changes/types";
import { Button } from "../ui";
import { backendLabel } from "./backend-card";
import type { BoardBackend as Backend } from "./board-types";

type State = Backend["state"];

const VERB: Record<State, { button: string; title: string; effect: string }> = {
  draining: {
    button: "Drain",
    title: "Drain",
    effect: "get no new requests; in-flight requests and open connections finish",
  },
  enabled: { button: "Enable", title: "Enable", effect: "take new requests again" },
  disabled: {
    button: "Disable",
    title: "Disable",
    effect: "leave rotation at once; open connections are closed",
  },
};

/** Groups ids by a value so an inverse can restore each backend's own previous value. */
function groupBy<T extends string | number>(
  list: readonly Backend[],
  key: (b: Backend) => T,
): Map<T, string[]> {
  const out = new Map<T, string[]>();
  for (const b of list) out.set(key(b), [...(out.get(key(b)) ?? []), b.id]);
  return out;
}

async function runAll(steps: (() => Promise<{ version: number | null }>)[]) {
  let version: number | null = null;
  for (const step of steps) version = (await step()).version ?? version;
  return { version };
}

/** Drain / enable / disable / set weight on the selected backends, each through the dry run. */
export function BulkToolbar({
  backends,
  open,
  onClear,
  mayDrain,
  mayWrite,
}: {
  backends: readonly Backend[];
  open: (spec: ChangeSpec) => void;
  onClear: () => void;
  mayDrain: boolean;
  mayWrite: boolean;
}) {
  const client = useTRPCClient();
  const [weight, setWeight] = useState("");
  const ids = backends.map((b) => b.id);
  const who =
    backends.length === 1 ? backendLabel(backends[0] as Backend) : plural(backends.length, "backend");

  function setState(state: State) {
    const before = groupBy(backends, (b) => b.state);
    open({
      title: `${VERB[state].title} ${who}?`,
      request: { kind: "backend.setState", input: { ids, state } },
      summary: (p) => (
        <>
          {who} will {VERB[state].effect}. {agentsSentence(p)}
        </>
      ),
      confirmLabel: VERB[state].button,
      danger: state === "disabled",
      done: `${VERB[state].title}: ${who}`,
      apply: () => client.backend.bulkSetState.mutate({ ids, state }),
      undo: () =>
        runAll(
          [...before].map(
            ([s, group]) =>
              () =>
                client.backend.bulkSetState.mutate({ ids: group, state: s }),
          ),
        ),
      onApplied: onClear,
    });
  }

  function setWeightAll() {
    const w = Number(weight);
    const before = groupBy(backends, (b) => b.weight);
    open({
      title: `Set the weight of ${who} to ${weight}?`,
      request: { kind: "backend.setWeight", input: { ids, weight: w } },
      summary: (p) => (
        <>
          {who} get{backends.length === 1 ? "s" : ""} weight {weight}; their share of each pool changes as
          shown below. {agentsSentence(p)}
        </>
      ),
      confirmLabel: "Set weight",
      done: `Weight ${weight}: ${who}`,
      apply: () => client.backend.bulkSetWeight.mutate({ ids, weight: w }),
      undo: () =>
        runAll(
          [...before].map(
            ([v, group]) =>
              () =>
                client.backend.bulkSetWeight.mutate({ ids: group, weight: v }),
          ),
        ),
      onApplied: onClear,
    });
  }

  return (
    <div
      role="toolbar"
      aria-label="Selected backends"
      className="sticky top-16 z-[5] mb-3 flex flex-wrap items-center gap-2 rounded-lg border border-indigo-200 bg-indigo-50/95 px-3 py-2 text-sm shadow-sm backdrop-blur dark:border-indigo-500/30 dark:bg-indigo-950/80"
    >
      <span className="font-medium" data-testid="selection-count">
        {plural(backends.length, "backend")} selected
      </span>
      <span className="mx-1 h-4 w-px bg-indigo-200 dark:bg-indigo-500/30" />
      {mayDrain ? (
        <>
          <Button size="sm" onClick={() => setState("draining")}>
            Drain
          </Button>
          <Button size="sm" onClick={() => setState("enabled")}>
            Enable
          </Button>
          <Button size="sm" onClick={() => setState("disabled")}>
            Disable
          </Button>
        </>
      ) : null}
      {mayWrite ? (
        <form
          className="flex items-center gap-1.5"
          onSubmit={(e) => {
            e.preventDefault();
            setWeightAll();
          }}
        >
          <label htmlFor="bulk-weight" className="text-[13px] text-zinc-600 dark:text-zinc-300">
            Weight
          </label>
          <input
            id="bulk-weight"
            type="number"
            min={0}
            max={WEIGHT_MAX}
            value={weight}
            onChange={(e) => setWeight(e.target.value)}
            placeholder="100"
            className="h-8 w-20 rounded-md border border-zinc-300 bg-white px-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
          <Button size="sm" type="submit" disabled={weight.trim() === ""}>
            Set weight
          </Button>
        </form>
      ) : null}
      <Button size="sm" variant="ghost" className="ml-auto" onClick={onClear}>
        Clear selection
      </Button>
    </div>
  );
}
