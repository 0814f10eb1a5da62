"use client";

import {
  type Announcements,
  type CollisionDetection,
  DndContext,
  type DragEndEvent,
  DragOverlay,
  type DragStartEvent,
  KeyboardSensor,
  PointerSensor,
  pointerWithin,
  rectIntersection,
  useDroppable,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import Link from "next/link";
import { useMemo, useState } from "react";
import type { Backend, Pool } from "../../lib/api-types";
import { useCan } from "../../lib/console-context";
import { plural } from "../../lib/format";
import { useTRPCClient } from "../../lib/trpc";
import { agentsSentence, useChangeDialog } from "../changes/change-dialog";
import type { ChangePreview } from "../changes/types";
import { HistoryLink } from "../history-link";
import { useLiveBackends } from "../metrics/use-metrics";
import { policyLabel } from "../pools/policies";
import { Badge, cx } from "../ui";
import { BackendCard, backendLabel, DragPreview } from "./backend-card";
import { BulkToolbar } from "./bulk-toolbar";
import { columnCoordinates } from "./keyboard-coordinates";
import { useSelection } from "./use-selection";

const MAX_STREAMED_POOLS = 3;

// Pointer drags land where the pointer is; keyboard drags (no pointer) by overlap.
const collision: CollisionDetection = (args) => {
  const hits = pointerWithin(args);
  return hits.length > 0 ? hits : rectIntersection(args);
};

function slowStartWords(ms: number): string {
  return ms > 0
    ? `with slow start over ${Math.round(ms / 1000)} s`
    : "at full weight (the pool has no slow start)";
}

function names(list: readonly Backend[]): string {
  const shown = list.slice(0, 3).map(backendLabel).join(", ");
  return list.length > 3 ? `${shown} and ${list.length - 3} more` : shown;
}

/**
 * Pools as columns, backends as cards. Dragging a card (or the selected cards) onto
 * another pool opens the dry run: what drains, what joins with slow start, which
 * agents receive the new version; then the rollout and an Undo.
 */
export function PoolsBoard({ pools }: { pools: readonly Pool[] }) {
  const allowed = useCan();
  const client = useTRPCClient();
  const mayMove = allowed("backend.write");
  const mayBulk = allowed("backend.drain") || mayMove;
  const order = useMemo(() => pools.flatMap((p) => p.backends.map((b) => b.id)), [pools]);
  const byId = useMemo(
    () => new Map(pools.flatMap((p) => p.backends.map((b) => [b.id, b] as const))),
    [pools],
  );
  const poolById = useMemo(() => new Map(pools.map((p) => [p.id, p])), [pools]);
  const selection = useSelection(order);
  const { open, dialog } = useChangeDialog();
  const [dragging, setDragging] = useState<string[] | null>(null);
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: columnCoordinates }),
  );

  const moving = (activeId: string): string[] =>
    selection.isSelected(activeId) && selection.selected.length > 1 ? selection.selected : [activeId];

  const poolName = (id: unknown) => poolById.get(String(id))?.name ?? "another pool";
  const announcements: Announcements = {
    onDragStart: ({ active }) => {
      const ids = moving(String(active.id));
      return `Picked up ${ids.length > 1 ? plural(ids.length, "backend") : backendLabel(byId.get(String(active.id)) as Backend)} from pool ${poolName(active.data.current?.poolId)}. Use the arrow keys to move to another pool, space to drop, escape to cancel.`;
    },
    onDragOver: ({ over }) => (over ? `Over pool ${poolName(over.id)}.` : "Not over a pool."),
    onDragEnd: ({ over }) =>
      over
        ? `Dropped on pool ${poolName(over.id)}; confirm the move in the dialog.`
        : "Dropped outside any pool; nothing moves.",
    onDragCancel: () => "Move cancelled; nothing changes.",
  };

  function onDragStart(e: DragStartEvent) {
    setDragging(moving(String(e.active.id)));
  }

  function onDragEnd(e: DragEndEvent) {
    const ids = dragging ?? [String(e.active.id)];
    setDragging(null);
    const target = e.over ? poolById.get(String(e.over.id)) : undefined;
    if (!target) return;
    const backends = ids.map((id) => byId.get(id)).filter((b): b is Backend => !!b && b.poolId !== target.id);
    if (backends.length === 0) return;
    const origin = backends.map((b) => ({ id: b.id, poolId: b.poolId }));
    const from = [...new Set(backends.map((b) => poolName(b.poolId)))].join(", ");
    open({
      title:
        backends.length === 1
          ? `Move ${backendLabel(backends[0] as Backend)} to ${target.name}?`
          : `Move ${plural(backends.length, "backend")} to ${target.name}?`,
      request: {
        kind: "backend.move",
        input: { moves: backends.map((b) => ({ id: b.id, poolId: target.id })) },
      },
      summary: (p: ChangePreview) => {
        const slow = p.pools.find((x) => x.poolId === target.id)?.slowStartMs ?? target.slowStartMs;
        return (
          <>
            <span className="font-medium">{names(backends)}</span>{" "}
            {backends.length === 1 ? "drains" : "drain"} from <span className="font-mono">{from}</span>:
            in-flight requests finish; {backends.length === 1 ? "joins" : "join"}{" "}
            <span className="font-mono">{target.name}</span> {slowStartWords(slow)}. {agentsSentence(p)}
          </>
        );
      },
      confirmLabel: "Move",
      done: `Moved ${names(backends)} to ${target.name}`,
      apply: () =>
        client.backend.move.mutate({ moves: backends.map((b) => ({ id: b.id, poolId: target.id })) }),
      undo: () => client.backend.move.mutate({ moves: origin }),
      onApplied: selection.clear,
    });
  }

  const activeLabel = dragging?.[0] ? backendLabel(byId.get(dragging[0]) as Backend) : "";
  const streaming = pools.length <= MAX_STREAMED_POOLS;

  return (
    <>
      {mayBulk && selection.selected.length > 0 ? (
        <BulkToolbar
          backends={selection.selected.map((id) => byId.get(id)).filter((b): b is Backend => !!b)}
          open={open}
          onClear={selection.clear}
          mayDrain={allowed("backend.drain")}
          mayWrite={mayMove}
        />
      ) : null}
      <DndContext
        sensors={sensors}
        collisionDetection={collision}
        onDragStart={onDragStart}
        onDragEnd={onDragEnd}
        onDragCancel={() => setDragging(null)}
        accessibility={{
          announcements,
          screenReaderInstructions: {
            draggable:
              "To move a backend to another pool, press space to pick it up, use the left and right arrow keys to choose the pool, then press space again to drop it, or escape to cancel. Selected backends move together.",
          },
        }}
      >
        <div
          className="grid auto-cols-[minmax(16rem,1fr)] grid-flow-col gap-4 overflow-x-auto pb-3"
          data-testid="pools-board"
        >
          {pools.map((p) => (
            <PoolColumn
              key={p.id}
              pool={p}
              stream={streaming}
              movable={mayMove}
              selectable={mayBulk}
              isSelected={selection.isSelected}
              onToggle={selection.toggle}
              dragging={dragging}
            />
          ))}
        </div>
        <DragOverlay dropAnimation={null}>
          {dragging ? <DragPreview label={activeLabel} count={dragging.length} /> : null}
        </DragOverlay>
      </DndContext>
      {dialog}
    </>
  );
}

function PoolColumn({
  pool,
  stream,
  movable,
  selectable,
  isSelected,
  onToggle,
  dragging,
}: {
  pool: Pool;
  stream: boolean;
  movable: boolean;
  selectable: boolean;
  isSelected: (id: string) => boolean;
  onToggle: (id: string, range: boolean) => void;
  dragging: string[] | null;
}) {
  const feed = useLiveBackends(pool.id, "5m", { stream });
  const { setNodeRef, isOver, active } = useDroppable({ id: pool.id });
  const fromHere = active?.data.current?.poolId === pool.id;
  const enabled = pool.backends.filter((b) => b.state === "enabled").length;
  return (
    <section
      ref={setNodeRef}
      aria-label={`Pool ${pool.name}`}
      data-testid={`column-${pool.name}`}
      className={cx(
        "flex min-h-48 flex-col rounded-lg border bg-zinc-100/60 transition-colors dark:bg-zinc-900/40",
        isOver && !fromHere
          ? "border-indigo-400 bg-indigo-50/70 dark:border-indigo-500 dark:bg-indigo-500/10"
          : "border-zinc-200 dark:border-zinc-800",
      )}
    >
      <header className="flex items-start justify-between gap-2 px-3 pb-2 pt-3">
        <div className="min-w-0">
          <h2 className="truncate font-mono text-sm font-semibold">
            <Link href={`/pools/${pool.id}`} className="hover:text-indigo-600 dark:hover:text-indigo-400">
              {pool.name}
            </Link>
          </h2>
          <p className="mt-0.5 text-xs text-zinc-500 dark:text-zinc-400">
            {enabled} of {plural(pool.backends.length, "backend")} enabled
            {pool.slowStartMs > 0 ? ` · slow start ${Math.round(pool.slowStartMs / 1000)} s` : ""}
          </p>
        </div>
        <div className="flex shrink-0 flex-col items-end gap-1">
          <Badge tone="indigo">{policyLabel(pool.policy)}</Badge>
          <HistoryLink targetType="pool" targetId={pool.id} label={pool.name} compact />
        </div>
      </header>
      <div className="flex flex-1 flex-col gap-2 px-2 pb-2">
        {pool.backends.length === 0 ? (
          <p className="flex flex-1 items-center justify-center rounded-md border border-dashed border-zinc-300 px-3 py-6 text-center text-xs text-zinc-500 dark:border-zinc-700 dark:text-zinc-400">
            {movable ? "No backends. Drag one here, or add one in the List view." : "No backends."}
          </p>
        ) : (
          pool.backends.map((b) => (
            <BackendCard
              key={b.id}
              backend={b}
              feed={feed}
              movable={movable}
              selectable={selectable}
              selected={isSelected(b.id)}
              onToggle={(range) => onToggle(b.id, range)}
              dimmed={dragging?.includes(b.id) ?? false}
            />
          ))
        )}
      </div>
    </section>
  );
}
