"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import type { Listener, Pool } from "../../lib/api-types";
import { useCan } from "../../lib/console-context";
import { plural } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";
import { PanelToggle, useCardPanel } from "../card-panel";
import { DryRunButton } from "../changes/dry-run-button";
import { HistoryLink } from "../history-link";
import { Badge, Button, Card } from "../ui";
import { ListenerForm } from "./listener-form";
import { ListenerGraphs } from "./listener-graphs";
import { RouteForm } from "./route-form";

function bind(l: Listener): string {
  return l.bindAddress.includes(":") ? `[${l.bindAddress}]:${l.port}` : `${l.bindAddress}:${l.port}`;
}

export function ListenerCard({
  listener,
  pools,
  clusterId,
}: {
  listener: Listener;
  pools: Pool[] | undefined;
  clusterId: string;
}) {
  const trpc = useTRPC();
  const allowed = useCan();
  const delListener = useMutation(trpc.listener.delete.mutationOptions());
  const delRoute = useMutation(trpc.route.delete.mutationOptions());
  const { panel, toggle, close } = useCardPanel();
  const [editingRoute, setEditingRoute] = useState<string | null>(null);
  // Graphs stream once a second: shown on demand, so a page of listeners opens no streams.
  const [graphs, setGraphs] = useState(false);
  const mayWriteListener = allowed("listener.write");
  const mayWriteRoute = allowed("route.write");

  return (
    <Card data-testid={`listener-${listener.name}`} id={`listener-${listener.name}`} className="scroll-mt-20">
      <div className="flex flex-wrap items-center justify-between gap-3 px-4 py-3">
        <div className="flex min-w-0 flex-wrap items-center gap-x-3 gap-y-1">
          <h2 className="truncate font-mono text-[15px] font-semibold">{listener.name}</h2>
          <Badge tone={listener.protocol === "http" ? "sky" : "amber"}>
            {listener.protocol.toUpperCase()}
          </Badge>
          {listener.tls ? <Badge tone="green">TLS</Badge> : null}
          {listener.http2 ? <Badge tone="sky">HTTP/2</Badge> : null}
          <span className="font-mono text-[13px] text-zinc-600 dark:text-zinc-300">{bind(listener)}</span>
          <span className="text-xs text-zinc-500 dark:text-zinc-400">
            {plural(listener.routes.length, "route")}
          </span>
          <HistoryLink targetType="listener" targetId={listener.id} label={listener.name} />
        </div>
        <div className="flex items-center gap-1">
          <Button size="sm" variant="ghost" aria-expanded={graphs} onClick={() => setGraphs((g) => !g)}>
            Graphs<span className="sr-only"> of listener {listener.name}</span>
          </Button>
          {mayWriteRoute ? (
            <PanelToggle which="add" panel={panel} onToggle={toggle}>
              Add route
            </PanelToggle>
          ) : null}
          {mayWriteListener ? (
            <>
              <PanelToggle which="edit" panel={panel} onToggle={toggle}>
                Edit<span className="sr-only"> listener {listener.name}</span>
              </PanelToggle>
              <DryRunButton
                request={{ kind: "listener.delete", input: { id: listener.id } }}
                size="sm"
                title={`Delete listener ${listener.name}?`}
                body={
                  <>
                    Nodes stop accepting connections on <span className="font-mono">{bind(listener)}</span> at
                    the next config push
                    {listener.routes.length > 0
                      ? `, and its ${plural(listener.routes.length, "route")} go too`
                      : ""}
                    .
                  </>
                }
                apply={() => delListener.mutateAsync({ id: listener.id })}
              >
                Delete<span className="sr-only"> listener {listener.name}</span>
              </DryRunButton>
            </>
          ) : null}
        </div>
      </div>

      {graphs ? (
        <div className="border-t border-zinc-100 p-4 dark:border-zinc-800">
          <ListenerGraphs listener={listener} clusterId={clusterId} />
        </div>
      ) : null}

      {panel === "edit" ? (
        <div className="border-t border-zinc-100 p-4 dark:border-zinc-800">
          <ListenerForm clusterId={clusterId} listener={listener} onDone={close} />
        </div>
      ) : null}

      {listener.routes.length > 0 ? (
        <div className="overflow-x-auto border-t border-zinc-100 dark:border-zinc-800">
          <table className="w-full border-collapse text-left text-sm">
            <thead>
              <tr className="text-[11px] uppercase tracking-wide text-zinc-500 dark:text-zinc-400">
                <th scope="col" className="py-1.5 pl-4 pr-2 font-medium">
                  Host
                </th>
                <th scope="col" className="px-2 py-1.5 font-medium">
                  Path prefix
                </th>
                <th scope="col" className="px-2 py-1.5 text-right font-medium">
                  Priority
                </th>
                <th scope="col" className="px-2 py-1.5 font-medium">
                  Target
                </th>
                {mayWriteRoute ? <th scope="col" className="w-32" /> : null}
              </tr>
            </thead>
            <tbody>
              {listener.routes.map((r) =>
                editingRoute === r.id ? (
                  <tr key={r.id}>
                    <td colSpan={5} className="border-t border-zinc-100 p-3 dark:border-zinc-800/70">
                      <RouteForm
                        listenerId={listener.id}
                        protocol={listener.protocol}
                        route={r}
                        pools={pools}
                        onDone={() => setEditingRoute(null)}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={r.id} className="border-t border-zinc-100 dark:border-zinc-800/70">
                    <td className="py-2 pl-4 pr-2">
                      {r.host ? (
                        <span className="font-mono text-[13px]">{r.host}</span>
                      ) : (
                        <span className="text-zinc-400 italic dark:text-zinc-500">any host</span>
                      )}
                    </td>
                    <td className="px-2 py-2 font-mono text-[13px]">{r.pathPrefix}</td>
                    <td className="px-2 py-2 text-right font-mono text-xs tabular-nums">{r.priority}</td>
                    <td className="px-2 py-2">
                      <span className="text-zinc-400" aria-hidden>
                        →{" "}
                      </span>
                      <span className="font-mono text-[13px] font-medium">{r.pool.name}</span>
                    </td>
                    {mayWriteRoute ? (
                      <td className="py-1 pl-2 pr-3 text-right">
                        <div className="flex justify-end gap-0.5">
                          <Button size="xs" variant="ghost" onClick={() => setEditingRoute(r.id)}>
                            Edit
                            <span className="sr-only">
                              {" "}
                              route {r.host || "any host"}
                              {r.pathPrefix}
                            </span>
                          </Button>
                          <DryRunButton
                            request={{ kind: "route.delete", input: { id: r.id } }}
                            title="Delete this route?"
                            body={
                              <>
                                Requests for{" "}
                                <span className="font-mono">{(r.host || "any host") + r.pathPrefix}</span> on{" "}
                                {listener.name} stop going to <span className="font-mono">{r.pool.name}</span>
                                .
                              </>
                            }
                            apply={() => delRoute.mutateAsync({ id: r.id })}
                          >
                            Delete
                            <span className="sr-only">
                              {" "}
                              route {r.host || "any host"}
                              {r.pathPrefix}
                            </span>
                          </DryRunButton>
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      ) : (
        <div className="border-t border-zinc-100 px-4 py-3 text-sm text-zinc-500 dark:border-zinc-800 dark:text-zinc-400">
          No routes: connections to this listener have nowhere to go.
          {mayWriteRoute ? " Add a route to send them to a pool." : ""}
        </div>
      )}

      {panel === "add" ? (
        <div className="border-t border-zinc-100 p-3 dark:border-zinc-800">
          <RouteForm listenerId={listener.id} protocol={listener.protocol} pools={pools} onDone={close} />
        </div>
      ) : null}
    </Card>
  );
}
