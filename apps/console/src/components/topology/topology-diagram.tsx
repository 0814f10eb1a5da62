"use client";

import Link from "next/link";
import { type ReactNode, useLayoutEffect, useRef, useState } from "react";
import type { Listener, Pool } from "../../lib/api-types";
import { plural } from "../../lib/format";
import type { BackendHealth } from "../metrics/types";
import { endpoint } from "../pools/pool-card";
import { cx } from "../ui";
import { type Rollup, rollup } from "./use-cluster-health";

const ROLLUP_CLASS: Record<Rollup, string> = {
  up: "border-emerald-400/70 dark:border-emerald-500/50",
  degraded: "border-amber-400 dark:border-amber-500/70",
  down: "border-red-400 dark:border-red-500/70",
  unknown: "border-zinc-300 dark:border-zinc-700",
};
const ROLLUP_DOT: Record<Rollup, string> = {
  up: "bg-emerald-500",
  degraded: "bg-amber-500",
  down: "bg-red-500",
  unknown: "bg-zinc-400 dark:bg-zinc-600",
};
const ROLLUP_WORD: Record<Rollup, string> = {
  up: "healthy",
  degraded: "degraded",
  down: "down",
  unknown: "no data",
};
const STROKE: Record<Rollup, string> = {
  up: "stroke-emerald-500/60",
  degraded: "stroke-amber-500/70",
  down: "stroke-red-500/70",
  unknown: "stroke-zinc-300 dark:stroke-zinc-700",
};

interface Edge {
  from: string;
  to: string;
  tone: Rollup;
}

function Node({
  id,
  href,
  tone,
  title,
  detail,
}: {
  id: string;
  href: string;
  tone: Rollup;
  title: ReactNode;
  detail?: ReactNode;
}) {
  return (
    <Link
      href={href}
      data-node={id}
      data-testid={`topo-${id}`}
      className={cx(
        "relative z-[1] block rounded-md border-l-4 border bg-white px-2.5 py-1.5 text-[13px] shadow-xs transition-colors hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-zinc-900 dark:hover:bg-zinc-800",
        ROLLUP_CLASS[tone],
      )}
    >
      <div className="flex items-center gap-1.5">
        <span aria-hidden className={cx("h-2 w-2 shrink-0 rounded-full", ROLLUP_DOT[tone])} />
        <span className="truncate font-medium">{title}</span>
        <span className="sr-only">, {ROLLUP_WORD[tone]}</span>
      </div>
      {detail ? (
        <div className="mt-0.5 truncate text-xs text-zinc-500 dark:text-zinc-400">{detail}</div>
      ) : null}
    </Link>
  );
}

function Column({ title, count, children }: { title: string; count: number; children: ReactNode }) {
  return (
    <section aria-label={title} className="flex min-w-0 flex-col gap-2">
      <h2 className="mb-1 text-xs font-medium uppercase tracking-wide text-zinc-500">
        {title} <span className="text-zinc-400">· {count}</span>
      </h2>
      {children}
    </section>
  );
}

const HEALTH_WORD: Record<BackendHealth, Rollup> = {
  up: "up",
  draining: "degraded",
  down: "down",
  ejected: "down",
  disabled: "unknown",
  unknown: "unknown",
};

/**
 * Listeners → routes → pools → backends, left to right. Nodes are ordinary links
 * (tab through them); the connecting lines are an SVG measured from the nodes'
 * positions, so the columns can wrap text and grow without a layout engine.
 */
export function TopologyDiagram({
  listeners,
  pools,
  health,
}: {
  listeners: readonly Listener[];
  pools: readonly Pool[];
  health: Record<string, BackendHealth>;
}) {
  const poolTone = new Map<string, Rollup>(
    pools.map((p) => [
      p.id,
      rollup(p.backends.map((b) => (b.state === "disabled" ? "disabled" : (health[b.id] ?? "unknown")))),
    ]),
  );
  const edges: Edge[] = [];
  for (const l of listeners) {
    for (const r of l.routes) {
      const tone = poolTone.get(r.poolId) ?? "unknown";
      edges.push({ from: `listener-${l.id}`, to: `route-${r.id}`, tone });
      edges.push({ from: `route-${r.id}`, to: `pool-${r.poolId}`, tone });
    }
  }
  for (const p of pools) {
    for (const b of p.backends) {
      const h = b.state === "disabled" ? "disabled" : (health[b.id] ?? "unknown");
      edges.push({ from: `pool-${p.id}`, to: `backend-${b.id}`, tone: HEALTH_WORD[h] });
    }
  }
  const routes = listeners.flatMap((l) => l.routes.map((r) => ({ listener: l, route: r })));
  const poolName = new Map(pools.map((p) => [p.id, p.name]));

  return (
    <Lines edges={edges}>
      <div className="grid grid-cols-4 gap-x-12 gap-y-2">
        <Column title="Listeners" count={listeners.length}>
          {listeners.map((l) => {
            const tones = l.routes.map((r) => poolTone.get(r.poolId) ?? "unknown");
            const tone: Rollup = tones.includes("down")
              ? "down"
              : tones.includes("degraded")
                ? "degraded"
                : tones.includes("up")
                  ? "up"
                  : "unknown";
            return (
              <Node
                key={l.id}
                id={`listener-${l.id}`}
                href={`/listeners#listener-${l.name}`}
                tone={tone}
                title={<span className="font-mono">{l.name}</span>}
                detail={`${l.protocol} · ${l.bindAddress}:${l.port}`}
              />
            );
          })}
        </Column>
        <Column title="Routes" count={routes.length}>
          {routes.map(({ listener, route }) => (
            <Node
              key={route.id}
              id={`route-${route.id}`}
              href={`/listeners#listener-${listener.name}`}
              tone={poolTone.get(route.poolId) ?? "unknown"}
              title={`${route.host || "any host"} ${route.pathPrefix}`}
              detail={`${listener.name} → ${poolName.get(route.poolId) ?? "?"}`}
            />
          ))}
        </Column>
        <Column title="Pools" count={pools.length}>
          {pools.map((p) => (
            <Node
              key={p.id}
              id={`pool-${p.id}`}
              href={`/pools/${p.id}`}
              tone={poolTone.get(p.id) ?? "unknown"}
              title={<span className="font-mono">{p.name}</span>}
              detail={`${p.policy.replaceAll("_", " ")} · ${plural(p.backends.length, "backend")}`}
            />
          ))}
        </Column>
        <Column title="Backends" count={pools.reduce((n, p) => n + p.backends.length, 0)}>
          {pools.flatMap((p) =>
            p.backends.map((b) => {
              const h = b.state === "disabled" ? "disabled" : (health[b.id] ?? "unknown");
              return (
                <Node
                  key={b.id}
                  id={`backend-${b.id}`}
                  href={`/pools/${p.id}#backend-${b.id}`}
                  tone={HEALTH_WORD[h]}
                  title={b.name || endpoint(b)}
                  detail={`${h} · ${b.state} · weight ${b.weight}`}
                />
              );
            }),
          )}
        </Column>
      </div>
    </Lines>
  );
}

interface Path {
  key: string;
  d: string;
  tone: Rollup;
}

/** Draws each edge as a curve from the right edge of one node to the left edge of the other. */
function Lines({ edges, children }: { edges: Edge[]; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [paths, setPaths] = useState<Path[]>([]);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const edgeKey = edges.map((e) => `${e.from}>${e.to}:${e.tone}`).join("|");

  // biome-ignore lint/correctness/useExhaustiveDependencies: edgeKey stands for the edges
  useLayoutEffect(() => {
    const root = ref.current;
    if (!root) return;
    function measure() {
      if (!root) return;
      const box = root.getBoundingClientRect();
      const pos = new Map<string, DOMRect>();
      for (const el of root.querySelectorAll<HTMLElement>("[data-node]")) {
        pos.set(el.dataset.node ?? "", el.getBoundingClientRect());
      }
      const out: Path[] = [];
      for (const e of edges) {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) continue;
        const x1 = a.right - box.left;
        const y1 = a.top + a.height / 2 - box.top;
        const x2 = b.left - box.left;
        const y2 = b.top + b.height / 2 - box.top;
        const mid = (x1 + x2) / 2;
        out.push({
          key: `${e.from}>${e.to}`,
          d: `M${x1} ${y1}C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}`,
          tone: e.tone,
        });
      }
      setPaths(out);
      setSize({ w: box.width, h: box.height });
    }
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(root);
    return () => ro.disconnect();
  }, [edgeKey]);

  return (
    <div ref={ref} className="relative">
      <svg
        aria-hidden
        className="pointer-events-none absolute inset-0"
        width={size.w}
        height={size.h}
        viewBox={`0 0 ${size.w || 1} ${size.h || 1}`}
      >
        {paths.map((p) => (
          <path
            key={p.key}
            data-edge={p.key}
            d={p.d}
            fill="none"
            strokeWidth={1.5}
            className={STROKE[p.tone]}
          />
        ))}
      </svg>
      {children}
    </div>
  );
}
