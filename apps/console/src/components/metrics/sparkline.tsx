"use client";

import { useEffect, useRef } from "react";
import { cx } from "../ui";
import { formatValue, type Unit } from "./format";
import type { Accessor, TimeStore } from "./store";

const W = 64;
const H = 20;

/**
 * A tiny SVG line of one value over the store's window, with its latest value.
 * Cheap enough for a row per backend; updates the path directly, not through React.
 */
export function Sparkline<T extends { t: number }>({
  store,
  value,
  label,
  unit = "rps",
  color = "currentColor",
  className,
  testId,
}: {
  store: TimeStore<T>;
  value: Accessor<T>;
  /** Accessible name, e.g. "Requests per second of web-1". */
  label: string;
  unit?: Unit;
  color?: string;
  className?: string;
  testId?: string;
}) {
  const pathRef = useRef<SVGPathElement>(null);
  const textRef = useRef<HTMLSpanElement>(null);
  const valueRef = useRef(value);
  valueRef.current = value;

  useEffect(() => {
    let raf = 0;
    function draw() {
      raf = 0;
      const rows = store.rows;
      const start = store.start;
      const span = store.windowMs || 1;
      const maxGap = store.stepMs * 1.5;
      let max = 0;
      let latest: number | null = null;
      for (const r of rows) {
        const v = valueRef.current(r);
        if (v !== null && v !== undefined) {
          if (v > max) max = v;
          latest = v;
        }
      }
      const top = max > 0 ? max : 1;
      let d = "";
      let prevT: number | null = null;
      let pen = false;
      for (const r of rows) {
        const v = valueRef.current(r);
        if (v === null || v === undefined || (prevT !== null && r.t - prevT > maxGap)) pen = false;
        prevT = r.t;
        if (v === null || v === undefined) continue;
        const x = ((r.t - start) / span) * W;
        const y = H - 1 - (v / top) * (H - 2);
        d += `${pen ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
        pen = true;
      }
      pathRef.current?.setAttribute("d", d);
      if (textRef.current) textRef.current.textContent = formatValue(latest, unit).replace(" req/s", "/s");
    }
    draw();
    const unsubscribe = store.subscribe(() => {
      if (!raf) raf = requestAnimationFrame(draw);
    });
    return () => {
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [store, unit]);

  return (
    <span className={cx("inline-flex items-center gap-1.5", className)} data-testid={testId}>
      <svg
        role="img"
        aria-label={label}
        viewBox={`0 0 ${W} ${H}`}
        width={W}
        height={H}
        className="shrink-0 overflow-visible"
      >
        <path
          ref={pathRef}
          fill="none"
          stroke={color}
          strokeWidth={1.25}
          strokeLinejoin="round"
          strokeLinecap="round"
          vectorEffect="non-scaling-stroke"
        />
      </svg>
      <span
        ref={textRef}
        className="w-11 truncate text-right font-mono text-[11px] tabular-nums text-zinc-600 dark:text-zinc-300"
      />
    </span>
  );
}
