"use client";

import { useCallback, useRef, useState } from "react";

/**
 * Selected backends across the board. Shift-click selects the range between the
 * last clicked card and this one (within the order the board shows them).
 */
export function useSelection(order: readonly string[]) {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const anchor = useRef<string | null>(null);
  const orderRef = useRef(order);
  orderRef.current = order;

  const toggle = useCallback((id: string, range: boolean) => {
    setSelected((prev) => {
      const next = new Set(prev);
      const list = orderRef.current;
      if (range && anchor.current && list.includes(anchor.current)) {
        const i = list.indexOf(anchor.current);
        const j = list.indexOf(id);
        for (const item of list.slice(Math.min(i, j), Math.max(i, j) + 1)) next.add(item);
      } else if (next.has(id)) next.delete(id);
      else next.add(id);
      anchor.current = id;
      return next;
    });
  }, []);
  const clear = useCallback(() => setSelected(new Set()), []);
  // Backends that disappeared (deleted elsewhere) leave the selection.
  const present = new Set(order);
  const live = [...selected].filter((id) => present.has(id));
  return { selected: live, isSelected: (id: string) => selected.has(id), toggle, clear };
}
