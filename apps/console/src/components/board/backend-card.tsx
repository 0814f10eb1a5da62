"use client";

import { useDraggable } from "@dnd-kit/core";
import { HistoryLink } from "../history-link";
import { GripIcon } from "../icons";
import type { LiveBackends } from "../metrics/use-metrics";
import { BackendState, BackendTraffic, endpoint } from "../pools/pool-card";
import { Badge, cx } from "../ui";
import type { BoardBackend } from "./board-types";

export function backendLabel(b: Pick<BoardBackend, "name" | "address" | "port">): string {
  return b.name || endpoint(b);
}

/** A backend on the pools board: health, weight, state and live requests/s; drag it by its handle. */
export function BackendCard({
  backend,
  feed,
  movable,
  selectable,
  selected,
  onToggle,
  dimmed,
}: {
  backend: BoardBackend;
  feed: LiveBackends;
  movable: boolean;
  selectable: boolean;
  selected: boolean;
  onToggle: (range: boolean) => void;
  /** Part of the selection being dragged: shown faded in place so nothing jumps. */
  dimmed: boolean;
}) {
  const label = backendLabel(backend);
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({
    id: backend.id,
    data: { poolId: backend.poolId },
    disabled: !movable,
  });
  return (
    <div
      ref={setNodeRef}
      id={`backend-${backend.id}`}
      data-testid={`card-${label}`}
      className={cx(
        "rounded-md border bg-white px-2.5 py-2 shadow-xs transition-[opacity,box-shadow] dark:bg-zinc-900",
        selected
          ? "border-indigo-400 ring-1 ring-indigo-400/60 dark:border-indigo-500"
          : "border-zinc-200 dark:border-zinc-800",
        (isDragging || dimmed) && "opacity-40",
        backend.state === "disabled" && "bg-zinc-50 dark:bg-zinc-900/50",
      )}
    >
      <div className="flex items-start gap-2">
        {selectable ? (
          <input
            type="checkbox"
            checked={selected}
            aria-label={`Select ${label}`}
            onChange={() => {}}
            onClick={(e) => onToggle(e.shiftKey)}
            className="mt-0.5 h-3.5 w-3.5 shrink-0 accent-indigo-600"
          />
        ) : null}
        <div className="min-w-0 flex-1">
          <div className="flex items-center gap-1.5">
            <span className="truncate text-[13px] font-medium">{label}</span>
            {backend.backup ? <Badge tone="violet">backup</Badge> : null}
          </div>
          {backend.name ? (
            <div className="truncate font-mono text-[11px] text-zinc-500 dark:text-zinc-400">
              {endpoint(backend)}
            </div>
          ) : null}
        </div>
        {movable ? (
          <button
            type="button"
            {...listeners}
            {...attributes}
            aria-label={`Move ${label}`}
            data-testid={`drag-${label}`}
            className="-mr-1 -mt-0.5 cursor-grab touch-none rounded p-1 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-700 focus-visible:outline-2 focus-visible:outline-indigo-500 active:cursor-grabbing dark:hover:bg-zinc-800 dark:hover:text-zinc-200"
          >
            <GripIcon />
          </button>
        ) : null}
      </div>
      <div className="mt-1.5">
        <BackendTraffic backend={backend} feed={feed} />
      </div>
      <div className="mt-1 flex items-center justify-between text-xs text-zinc-500 dark:text-zinc-400">
        <BackendState state={backend.state} />
        <span className="flex items-center gap-2">
          <span title="Weight" className="tabular-nums">
            weight <span className="font-mono text-zinc-700 dark:text-zinc-200">{backend.weight}</span>
          </span>
          <HistoryLink targetType="backend" targetId={backend.id} label={label} compact />
        </span>
      </div>
    </div>
  );
}

/** What follows the pointer while dragging: the card, or a stack when several are selected. */
export function DragPreview({ label, count }: { label: string; count: number }) {
  return (
    <div className="relative">
      {count > 1 ? (
        <div className="absolute inset-0 translate-x-1.5 translate-y-1.5 rounded-md border border-zinc-300 bg-white dark:border-zinc-700 dark:bg-zinc-800" />
      ) : null}
      <div className="relative flex items-center gap-2 rounded-md border border-indigo-400 bg-white px-3 py-2 text-[13px] font-medium shadow-lg dark:bg-zinc-900">
        <GripIcon />
        {label}
        {count > 1 ? <Badge tone="indigo">+{count - 1}</Badge> : null}
      </div>
    </div>
  );
}
