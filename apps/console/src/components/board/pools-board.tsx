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
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import { useMemo, useState } from "react";
import { useCan } from "../../lib/console-context";
import { plural } from "../../lib/format";
import { useTRPCClient } from "../../lib/trpc";
import { agentsSentence, useChangeDialog } from "../changes/change-dialog";
import type { ChangePreview } from "../changes/types";
import { BackendForm } from "../pools/backend-form";
import { Card } from "../ui";
import { backendLabel, DragPreview } from "./backend-card";
import type { BoardBackend as Backend, BoardPool } from "./board-types";
import { BulkToolbar } from "./bulk-toolbar";
import { columnCoordinates } from "./keyboard-coordinates";
import { PoolColumn } from "./pool-column";
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
export function PoolsBoard({ pools }: { pools: readonly BoardPool[] }) {
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
  const [scroller, setScroller] = useState<HTMLDivElement | null>(null);
  const [adding, setAdding] = useState<string | null>(null);
  const addingTo = adding ? poolById.get(adding) : undefined;
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
      {addingTo ? (
        <Card className="mb-4 p-4" data-testid="board-add-backend">
          <h2 className="mb-3 text-sm font-semibold">
            Add a backend to <span className="font-mono">{addingTo.name}</span>
          </h2>
          <BackendForm key={addingTo.id} poolId={addingTo.id} onDone={() => setAdding(null)} />
        </Card>
      ) : null}
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
          ref={setScroller}
          className="grid auto-cols-[minmax(16rem,1fr)] grid-flow-col gap-4 overflow-x-auto pb-3"
          data-testid="pools-board"
        >
          {pools.map((p) => (
            <PoolColumn
              key={p.id}
              pool={p}
              scroller={scroller}
              stream={streaming}
              movable={mayMove}
              selectable={mayBulk}
              isSelected={selection.isSelected}
              onToggle={selection.toggle}
              onAdd={mayMove ? () => setAdding(p.id) : null}
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
