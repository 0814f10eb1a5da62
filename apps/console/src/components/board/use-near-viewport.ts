"use client";

import { useEffect, useState } from "react";

/**
 * Whether an element is inside `root` (the board's horizontal scroller, or
 * the viewport) or within `margin` of its edges. A board of 200 pools mounts the cards (and the
 * live metrics) of the columns in view only; the columns themselves stay, so
 * every pool is still a drop target.
 */
export function useNearViewport(
  element: Element | null,
  root: Element | "viewport" | null,
  margin = "0px 400px",
): boolean {
  const [near, setNear] = useState(false);
  useEffect(() => {
    if (!element || !root) return;
    const observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) setNear(e.isIntersecting);
      },
      { root: root === "viewport" ? null : root, rootMargin: margin },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [element, root, margin]);
  return near;
}
