"use client";

import { useDroppable } from "@dnd-kit/core";
import Link from "next/link";
import { useState } from "react";
import { plural } from "../../lib/format";
import { HistoryLink } from "../history-link";
import { PlusIcon } from "../icons";
import { policyLabel } from "../pools/policies";
import { Badge, Button, cx } from "../ui";
import type { BoardPool } from "./board-types";
import { ColumnCards } from "./column-cards";
import { useNearViewport } from "./use-near-viewport";

/**
 * One pool of the board: always a drop target with its header; its cards (and
 * their live metrics) are mounted while the column is near the visible part of
 * the board, or while a drag that started here is under way.
 */
export function PoolColumn({
  pool,
  scroller,
  stream,
  movable,
  selectable,
  isSelected,
  onToggle,
  onAdd,
  dragging,
}: {
  pool: BoardPool;
  /** The board's horizontal scroller: what "near" is measured against. */
  scroller: Element | null;
  stream: boolean;
  movable: boolean;
  selectable: boolean;
  isSelected: (id: string) => boolean;
  onToggle: (id: string, range: boolean) => void;
  onAdd: (() => void) | null;
  dragging: string[] | null;
}) {
  const { setNodeRef, isOver, active } = useDroppable({ id: pool.id });
  const [element, setElement] = useState<HTMLElement | null>(null);
  const near = useNearViewport(element, scroller);
  const fromHere = active?.data.current?.poolId === pool.id;
  let enabled = 0;
  for (const b of pool.backends) if (b.state === "enabled") enabled++;
  return (
    <section
      ref={(node) => {
        setNodeRef(node);
        setElement(node);
      }}
      aria-label={`Pool ${pool.name}`}
      data-testid={`column-${pool.name}`}
      className={cx(
        "flex min-h-48 min-w-0 flex-col rounded-lg border bg-zinc-100/60 transition-colors dark:bg-zinc-900/40",
        isOver && !fromHere
          ? "border-indigo-400 bg-indigo-50/70 dark:border-indigo-500 dark:bg-indigo-500/10"
          : "border-zinc-200 dark:border-zinc-800",
      )}
    >
      <header className="flex items-start justify-between gap-2 px-3 pb-2 pt-3">
        <div className="min-w-0">
          <h2 className="truncate font-mono text-sm font-semibold">
            <Link
              href={`/pools/${pool.id}`}
              prefetch={false}
              className="hover:text-indigo-600 dark:hover:text-indigo-400"
            >
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
      {pool.backends.length === 0 ? (
        <div className="flex flex-1 flex-col px-2 pb-2">
          <p className="flex flex-1 items-center justify-center rounded-md border border-dashed border-zinc-300 px-3 py-6 text-center text-xs text-zinc-500 dark:border-zinc-700 dark:text-zinc-400">
            {onAdd ? "No backends. Drag one here, or add one below." : "No backends."}
          </p>
        </div>
      ) : near || fromHere ? (
        <ColumnCards
          pool={pool}
          stream={stream}
          movable={movable}
          selectable={selectable}
          isSelected={isSelected}
          onToggle={onToggle}
          dragging={dragging}
        />
      ) : (
        <div className="flex-1" />
      )}
      {onAdd ? (
        <div className="px-2 pb-2">
          <Button
            size="sm"
            variant="ghost"
            className="w-full"
            onClick={onAdd}
            aria-label={`Add backend to pool ${pool.name}`}
          >
            <PlusIcon />
            Add backend
          </Button>
        </div>
      ) : null}
    </section>
  );
}
