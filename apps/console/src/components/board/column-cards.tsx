"use client";

import { defaultRangeExtractor, type Range, useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type LiveBackends, useLiveBackends } from "../metrics/use-metrics";
import { BackendCard } from "./backend-card";
import type { BoardPool } from "./board-types";
import { useShownBackendMetrics } from "./use-shown-backend-metrics";

/** A card's height before it is measured (name, endpoint, sparkline, state line). */
const CARD_ESTIMATE_PX = 108;
const GAP_PX = 8;

/**
 * A column's cards, virtualized: only those in (or near) the column's scroll
 * window are in the DOM, so a pool of 10,000 backends renders a few dozen. The
 * card that has focus and the cards being dragged stay mounted even when
 * scrolled away, so focus is not lost and dnd-kit keeps its active node. One
 * metrics feed per column (not per card) gives every card its health and rate:
 * the whole pool's for small pools, only the shown cards' for large ones.
 */
export function ColumnCards(props: ColumnProps) {
  return props.pool.backends.length > WHOLE_POOL_FEED_MAX ? (
    <ShownFeedCards {...props} />
  ) : (
    <PoolFeedCards {...props} />
  );
}

interface ColumnProps {
  pool: BoardPool;
  stream: boolean;
  movable: boolean;
  selectable: boolean;
  isSelected: (id: string) => boolean;
  onToggle: (id: string, range: boolean) => void;
  dragging: string[] | null;
}

/** Up to this many backends a column streams (or polls) the whole pool's metrics; past it, the shown cards'. */
const WHOLE_POOL_FEED_MAX = 100;

function PoolFeedCards(props: ColumnProps) {
  const feed = useLiveBackends(props.pool.id, "5m", { stream: props.stream });
  return <CardList {...props} feed={feed} />;
}

function ShownFeedCards(props: ColumnProps) {
  const [shown, setShown] = useState<string[]>([]);
  const feed = useShownBackendMetrics(props.pool.id, shown);
  return <CardList {...props} feed={feed} onShown={setShown} />;
}

function CardList({
  pool,
  movable,
  selectable,
  isSelected,
  onToggle,
  dragging,
  feed,
  onShown,
}: ColumnProps & { feed: LiveBackends; onShown?: (ids: string[]) => void }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [focused, setFocused] = useState<string | null>(null);
  const backends = pool.backends;

  const indexOf = useMemo(() => new Map(backends.map((b, i) => [b.id, i])), [backends]);
  // Indexes that must stay rendered whatever the scroll position.
  const pinned = useRef<number[]>([]);
  pinned.current = [];
  for (const id of [focused, ...(dragging ?? [])]) {
    const i = id ? indexOf.get(id) : undefined;
    if (i !== undefined) pinned.current.push(i);
  }
  const rangeExtractor = useCallback((range: Range) => {
    const shown = defaultRangeExtractor(range);
    const extra = pinned.current.filter((i) => !shown.includes(i));
    return extra.length === 0 ? shown : [...shown, ...extra].sort((a, b) => a - b);
  }, []);

  const virtualizer = useVirtualizer<HTMLDivElement, HTMLLIElement>({
    count: backends.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => CARD_ESTIMATE_PX,
    getItemKey: (i) => backends[i]?.id ?? i,
    overscan: 4,
    gap: GAP_PX,
    rangeExtractor,
    useFlushSync: false,
  });

  const items = virtualizer.getVirtualItems();
  const shownKey = items.map((i) => i.key).join(",");
  // Keys, not the items: the items are new objects on every render.
  useEffect(() => {
    onShown?.(shownKey === "" ? [] : shownKey.split(","));
  }, [shownKey, onShown]);

  return (
    <div
      ref={scrollRef}
      data-testid={`cards-${pool.name}`}
      className="max-h-[calc(100vh-15rem)] min-h-32 flex-1 overflow-y-auto px-2 pb-2 [overflow-anchor:none]"
    >
      <ul
        aria-label={`Backends of pool ${pool.name}`}
        className="relative w-full"
        style={{ height: virtualizer.getTotalSize() }}
        onFocus={(e) => {
          const card = (e.target as HTMLElement).closest<HTMLElement>("[data-backend-id]");
          setFocused(card?.dataset.backendId ?? null);
        }}
      >
        {items.map((item) => {
          const b = backends[item.index];
          if (!b) return null;
          return (
            <li
              key={item.key}
              ref={virtualizer.measureElement}
              data-index={item.index}
              data-backend-id={b.id}
              className="absolute left-0 top-0 w-full"
              style={{ transform: `translateY(${item.start}px)` }}
            >
              <BackendCard
                backend={b}
                feed={feed}
                movable={movable}
                selectable={selectable}
                selected={isSelected(b.id)}
                onToggle={(range) => onToggle(b.id, range)}
                dimmed={dragging?.includes(b.id) ?? false}
              />
            </li>
          );
        })}
      </ul>
    </div>
  );
}
