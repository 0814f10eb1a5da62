"use client";

import { useRouter } from "next/navigation";
import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import type uPlot from "uplot";
import { Card, cx, Skeleton } from "../ui";
import { formatClock, formatTick, formatValue, niceCeil, UNIT_LABEL, type Unit } from "./format";
import { type Accessor, alignRows, type TimeStore } from "./store";
import type { Marker } from "./types";

export interface ChartSeries<T> {
  label: string;
  /** A CSS colour that reads on both light and dark backgrounds (the 500 shades). */
  color: string;
  value: Accessor<T>;
  dash?: number[];
  width?: number;
}

/** Colours of the charts: Tailwind 500 shades, readable in both schemes. */
export const COLORS = {
  indigo: "#6366f1",
  emerald: "#10b981",
  amber: "#f59e0b",
  red: "#ef4444",
  sky: "#0ea5e9",
  violet: "#8b5cf6",
  pink: "#ec4899",
  teal: "#14b8a6",
  orange: "#f97316",
  lime: "#84cc16",
} as const;

const PALETTE = Object.values(COLORS);

/** A stable, distinct colour for the n-th of many series (backends of a pool). */
export function seriesColor(i: number): string {
  if (i < PALETTE.length) return PALETTE[i]!;
  return `hsl(${Math.round((i * 137.508) % 360)} 65% 55%)`;
}

/** Follows the `.dark` class the shell toggles on <html>. */
export function useIsDark(): boolean {
  const [dark, setDark] = useState(false);
  useEffect(() => {
    const el = document.documentElement;
    const read = () => setDark(el.classList.contains("dark"));
    read();
    const mo = new MutationObserver(read);
    mo.observe(el, { attributes: true, attributeFilter: ["class"] });
    return () => mo.disconnect();
  }, []);
  return dark;
}

const FONT = "11px ui-sans-serif, system-ui, sans-serif";

const MARKER_STYLE: Record<Marker["kind"], { color: string; dash: number[] }> = {
  config: { color: COLORS.indigo, dash: [4, 3] },
  ack: { color: COLORS.emerald, dash: [2, 3] },
  nack: { color: COLORS.red, dash: [] },
};

const LABEL_CLASS: Record<Marker["kind"], string> = {
  config:
    "top-0 cursor-pointer bg-indigo-600 text-white hover:bg-indigo-500 dark:bg-indigo-500 dark:hover:bg-indigo-400",
  ack: "bottom-0 bg-emerald-100 text-emerald-800 dark:bg-emerald-500/20 dark:text-emerald-300",
  nack: "bottom-0 bg-red-600 text-white dark:bg-red-500",
};

function markerKey(m: Marker): string {
  return `${m.kind}:${m.version}:${m.agentName ?? ""}:${m.t}`;
}

function markerTitle(m: Marker): string {
  const when = formatClock(m.t, true);
  if (m.kind === "config")
    return `Config v${m.version}${m.author ? ` by ${m.author}` : ""} · ${when} · open in config history`;
  const who = m.agentName ?? "agent";
  if (m.kind === "ack") return `${who} applied v${m.version} · ${when}`;
  return `${who} rejected v${m.version}${m.reason ? `: ${m.reason}` : ""} · ${when}`;
}

/**
 * One label for markers that sit too close to label apart (newest first):
 * "v10", "v9–v10", "v7, v9, v10"; ACKs/NACKs as "ack ×3", "nack" when any refused.
 */
export function groupText(members: readonly Marker[]): string {
  if (members[0]!.kind !== "config") {
    const nack = members.some((m) => m.kind === "nack");
    const word = nack ? "nack" : "ack";
    return members.length === 1 ? word : `${word} ×${members.length}`;
  }
  const versions = [...new Set(members.map((m) => m.version))].sort((a, b) => a - b);
  if (versions.length === 1) return `v${versions[0]}`;
  const consecutive = versions.every((v, i) => i === 0 || v === versions[i - 1]! + 1);
  if (consecutive) return `v${versions[0]}–v${versions.at(-1)}`;
  if (versions.length <= 3) return versions.map((v) => `v${v}`).join(", ");
  return `v${versions[0]}…v${versions.at(-1)} (${versions.length})`;
}

/**
 * A uPlot line chart fed from a TimeStore. New points reach the canvas through
 * `setData` on the next animation frame; React renders only the frame, the legend
 * labels and the markers list, so a 1 Hz stream causes no re-render.
 */
export function TimeSeriesChart<T extends { t: number }>({
  title,
  store,
  series,
  unit,
  markers,
  height = 180,
  syncKey,
  nowTestId,
  loading,
  yMax,
  legendRows = 1,
  className,
  actions,
}: {
  /** Shown above the chart and used as its accessible name. */
  title: string;
  store: TimeStore<T>;
  series: readonly ChartSeries<T>[];
  unit: Unit;
  markers?: readonly Marker[];
  /** Height of the plot in CSS pixels (fixed, so streaming never moves the page). */
  height?: number;
  /** Charts with the same key share the hover cursor. */
  syncKey?: string;
  /** data-testid of the visually hidden latest value of the first series. */
  nowTestId?: string;
  loading?: boolean;
  /** Fixed top of the y axis (100 for percentages); otherwise a rounded data maximum. */
  yMax?: number;
  /** Rows of legend to reserve; more series scroll inside. */
  legendRows?: number;
  className?: string;
  actions?: ReactNode;
}) {
  const router = useRouter();
  const dark = useIsDark();
  const plotRef = useRef<HTMLDivElement>(null);
  const timeRef = useRef<HTMLSpanElement>(null);
  const nowRef = useRef<HTMLParagraphElement>(null);
  const valueRefs = useRef<(HTMLSpanElement | null)[]>([]);
  const seriesRef = useRef(series);
  seriesRef.current = series;
  const markersRef = useRef<readonly Marker[]>(markers ?? []);
  const uRef = useRef<uPlot | null>(null);
  const navigateRef = useRef((href: string) => router.push(href));
  navigateRef.current = (href: string) => router.push(href);
  const nowId = useId();

  // Recreate the chart only when its shape changes; not when values do.
  const shape = series
    .map((s) => `${s.label}|${s.color}|${s.dash?.join(",") ?? ""}|${s.width ?? ""}`)
    .join(";");

  // `shape` stands for `series`, whose accessors are read through a ref.
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuild when the series change shape
  useEffect(() => {
    const el = plotRef.current;
    if (!el) return;
    let u: uPlot | null = null;
    let cancelled = false;
    let raf = 0;
    let data = build();
    const labels = new Map<string, HTMLElement>();
    let layer: HTMLDivElement | null = null;

    function build() {
      return alignRows(
        store.rows,
        store.stepMs,
        seriesRef.current.map((s) => s.value),
      );
    }

    function latestOf(col: readonly (number | null)[] | undefined): number | null {
      if (!col) return null;
      for (let i = col.length - 1; i >= 0; i--) if (col[i] !== null && col[i] !== undefined) return col[i]!;
      return null;
    }

    function showValues(idx: number | null) {
      const xs = data[0];
      for (let i = 0; i < seriesRef.current.length; i++) {
        const span = valueRefs.current[i];
        if (!span) continue;
        const col = data[i + 1];
        const v = idx === null ? latestOf(col) : (col?.[idx] ?? null);
        span.textContent = formatValue(v, unit);
      }
      const t = idx === null ? xs.at(-1) : xs[idx];
      if (timeRef.current)
        timeRef.current.textContent = idx === null || t === undefined ? "" : formatClock(t, !store.live);
    }

    function writeLatest() {
      const v = latestOf(data[1]);
      if (nowRef.current)
        nowRef.current.textContent =
          v === null ? "no data" : `${Math.round(v * 100) / 100} ${UNIT_LABEL[unit]}`.trim();
      if (!u || u.cursor.idx === null || u.cursor.idx === undefined || u.cursor.left! < 0) showValues(null);
    }

    function layoutLabels(u: uPlot) {
      if (!layer) {
        layer = document.createElement("div");
        layer.className = "pointer-events-none absolute inset-0";
        u.over.appendChild(layer);
      }
      const seen = new Set<string>();
      const width = u.over.clientWidth;
      // Newest first; markers whose labels would overlap (closer than 30 px) share one
      // label that names them all ("v9–v10"), so none hides under another.
      const groups: { row: "top" | "bottom"; x: number; members: Marker[] }[] = [];
      const open = {
        top: undefined as (typeof groups)[number] | undefined,
        bottom: undefined as (typeof groups)[number] | undefined,
      };
      const ms = markersRef.current;
      for (let i = ms.length - 1; i >= 0; i--) {
        const m = ms[i]!;
        const x = u.valToPos(m.t, "x");
        if (!(x >= 0 && x <= width)) continue;
        const row = m.kind === "config" ? "top" : "bottom";
        const g = open[row];
        if (g && g.x - x < 30) {
          g.members.push(m);
          continue;
        }
        const fresh = { row, x, members: [m] } as (typeof groups)[number];
        groups.push(fresh);
        open[row] = fresh;
      }
      for (const g of groups) {
        const newest = g.members[0]!;
        const key = g.members.map(markerKey).join("|");
        seen.add(key);
        let node = labels.get(key);
        if (!node) {
          node = document.createElement(newest.kind === "config" ? "a" : "span");
          const worst = g.members.find((m) => m.kind === "nack") ?? newest;
          node.className = cx(
            "pointer-events-auto absolute -translate-x-1/2 whitespace-nowrap rounded px-1 font-mono text-[10px] font-medium leading-4",
            LABEL_CLASS[worst.kind],
          );
          node.textContent = groupText(g.members);
          node.title = g.members.map(markerTitle).join("\n");
          node.dataset.markers = String(g.members.length);
          if (node instanceof HTMLAnchorElement) {
            const href = `/config?version=${newest.version}`;
            node.href = href;
            node.setAttribute(
              "aria-label",
              g.members.length === 1
                ? `Config version ${newest.version}`
                : `Config versions ${groupText(g.members)}; opens v${newest.version}`,
            );
            node.addEventListener("mousedown", (e) => e.stopPropagation());
            node.addEventListener("click", (e) => {
              if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
              e.preventDefault();
              navigateRef.current(href);
            });
          }
          labels.set(key, node);
          layer.appendChild(node);
        }
        node.style.left = `${Math.min(Math.max(g.x, 12), width - 12)}px`;
      }
      for (const [key, node] of labels)
        if (!seen.has(key)) {
          node.remove();
          labels.delete(key);
        }
    }

    function drawMarkers(u: uPlot) {
      const ms = markersRef.current;
      if (ms.length > 0) {
        const { ctx } = u;
        const { left, top, width, height: h } = u.bbox;
        const pr = window.devicePixelRatio || 1;
        ctx.save();
        ctx.lineWidth = pr;
        for (const m of ms) {
          const x = Math.round(u.valToPos(m.t, "x", true)) + 0.5;
          if (x < left || x > left + width) continue;
          const style = MARKER_STYLE[m.kind];
          ctx.strokeStyle = style.color;
          ctx.globalAlpha = m.kind === "ack" ? 0.55 : 0.9;
          ctx.setLineDash(style.dash.map((d) => d * pr));
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + h);
          ctx.stroke();
        }
        ctx.restore();
      }
      layoutLabels(u);
    }

    const axisStroke = dark ? "#a1a1aa" : "#71717a";
    const gridStroke = dark ? "rgba(63,63,70,0.7)" : "rgba(228,228,231,1)";
    const axisBase = {
      stroke: axisStroke,
      font: FONT,
      grid: { stroke: gridStroke, width: 1 },
      ticks: { stroke: gridStroke, width: 1, size: 4 },
    };

    function options(width: number): uPlot.Options {
      return {
        width,
        height,
        ms: 1,
        legend: { show: false },
        padding: [10, 10, 0, 0],
        cursor: {
          y: false,
          drag: { x: false, y: false, setScale: false },
          points: { size: 6, width: 1.5 },
          ...(syncKey ? { sync: { key: syncKey } } : {}),
        },
        scales: {
          x: { time: true, range: () => [store.start, store.end] },
          y: {
            range: (_u, _min, max) => [
              0,
              yMax ?? niceCeil(max === null || !Number.isFinite(max) ? 0 : max * 1.05),
            ],
          },
        },
        axes: [
          { ...axisBase, space: 64 },
          {
            ...axisBase,
            size: 44,
            space: 24,
            label: UNIT_LABEL[unit] || undefined,
            labelSize: UNIT_LABEL[unit] ? 14 : 0,
            labelFont: FONT,
            values: (_u, splits) => splits.map((v) => formatTick(v, unit)),
          },
        ],
        series: [
          {},
          ...seriesRef.current.map(
            (s): uPlot.Series => ({
              label: s.label,
              stroke: s.color,
              width: s.width ?? 1.5,
              ...(s.dash ? { dash: s.dash } : {}),
              points: { show: false },
              spanGaps: false,
            }),
          ),
        ],
        hooks: {
          setCursor: [(u) => showValues(u.cursor.idx ?? null)],
          draw: [drawMarkers],
        },
      };
    }

    const unsubscribe = store.subscribe(() => {
      if (raf) return;
      raf = requestAnimationFrame(() => {
        raf = 0;
        data = build();
        u?.setData(data as uPlot.AlignedData);
        writeLatest();
      });
    });
    writeLatest();

    import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      data = build();
      u = new UPlot(options(Math.max(el.clientWidth, 100)), data as uPlot.AlignedData, el);
      uRef.current = u;
      writeLatest();
    });

    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (u && w > 0 && w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);

    return () => {
      cancelled = true;
      unsubscribe();
      ro.disconnect();
      if (raf) cancelAnimationFrame(raf);
      uRef.current = null;
      u?.destroy();
    };
  }, [store, shape, unit, height, syncKey, dark, yMax]);

  useEffect(() => {
    markersRef.current = markers ?? [];
    uRef.current?.redraw(false, false);
  }, [markers]);

  return (
    <Card className={cx("flex flex-col p-3", className)}>
      <div className="flex h-5 items-center justify-between gap-2">
        <h3 className="truncate text-xs font-medium uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
          {title}
        </h3>
        <div className="flex shrink-0 items-center gap-2">
          <span
            ref={timeRef}
            className="font-mono text-[11px] tabular-nums text-zinc-400 dark:text-zinc-500"
          />
          {actions}
        </div>
      </div>
      <ul
        aria-label={`${title} legend`}
        className="mt-1 grid grid-cols-[repeat(auto-fill,minmax(9.5rem,1fr))] content-start gap-x-3 overflow-y-auto text-xs"
        style={{ height: legendRows * 20 }}
      >
        {series.map((s, i) => (
          <li key={s.label} className="flex h-5 min-w-0 items-center gap-1.5">
            <span
              aria-hidden
              className="h-0.5 w-3 shrink-0 rounded-full"
              style={{ backgroundColor: s.color }}
            />
            <span className="truncate text-zinc-600 dark:text-zinc-300" title={s.label}>
              {s.label}
            </span>
            <span
              ref={(node) => {
                valueRefs.current[i] = node;
              }}
              className="ml-auto shrink-0 font-mono tabular-nums text-zinc-900 dark:text-zinc-100"
            />
          </li>
        ))}
      </ul>
      <div className="relative mt-1" style={{ height }}>
        <div
          ref={plotRef}
          role="img"
          aria-label={title}
          aria-describedby={nowId}
          className="absolute inset-0 overflow-hidden"
        />
        {loading ? <Skeleton className="absolute inset-0" /> : null}
      </div>
      <p id={nowId} ref={nowRef} className="sr-only" data-testid={nowTestId} />
    </Card>
  );
}
