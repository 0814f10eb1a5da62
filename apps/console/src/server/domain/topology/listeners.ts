import { Prisma } from "@fulcrum/db";
import type { z } from "zod";
import { InvalidInputError, NotFoundError } from "../../errors";
import type { Actor } from "../actor";
import { type listenerInput, type listenerUpdate, settingsSchemaFor } from "../schemas";
import { commitTopologyChange, type TopologyDeps } from "../topology-change";
import { getCluster } from "./clusters";

const json = (v: unknown) => v as Prisma.InputJsonValue;

export async function listListeners(deps: TopologyDeps, clusterId: string) {
  return deps.prisma.listener.findMany({
    where: { clusterId },
    orderBy: [{ port: "asc" }, { name: "asc" }],
    include: {
      routes: { include: { pool: { select: { id: true, name: true } } }, orderBy: { priority: "desc" } },
    },
  });
}

export async function getListener(deps: TopologyDeps, id: string) {
  const listener = await deps.prisma.listener.findUnique({ where: { id } });
  if (!listener) throw new NotFoundError("Listener", id);
  return listener;
}

export async function createListener(deps: TopologyDeps, actor: Actor, input: z.infer<typeof listenerInput>) {
  await getCluster(deps, input.clusterId);
  return commitTopologyChange(deps, actor, input.clusterId, async (tx) => {
    const after = await tx.listener.create({
      data: {
        ...input,
        settings: json(input.settings),
        tls: tlsColumn(input.tls),
        http2: tlsColumn(input.http2),
      },
    });
    return {
      result: after,
      audit: { action: "listener.create", targetType: "listener", targetId: after.id, after },
    };
  });
}

export async function updateListener(
  deps: TopologyDeps,
  actor: Actor,
  input: z.infer<typeof listenerUpdate>,
) {
  const before = await getListener(deps, input.id);
  const { id, settings: given, tls, http2, ...data } = input;
  const protocol = data.protocol ?? before.protocol;
  if (protocol !== "http" && (tls ?? (tls === undefined ? before.tls : null))) {
    const message = "Only HTTP listeners terminate TLS: turn TLS off before switching to TCP or DNS.";
    throw new InvalidInputError(message, { tls: message });
  }
  if (protocol !== "http" && (http2 ?? (http2 === undefined ? before.http2 : null))) {
    const message = "Only HTTP listeners speak HTTP/2: turn HTTP/2 off before switching to TCP or DNS.";
    throw new InvalidInputError(message, { http2: message });
  }
  if (protocol !== before.protocol && (protocol === "dns" || before.protocol === "dns")) {
    // A DNS route's host is a name to answer for, an HTTP route's a Host to match: they don't convert.
    const routes = await deps.prisma.route.count({ where: { listenerId: id } });
    if (routes > 0) {
      const message = `Remove this listener's routes (${routes}) before switching it to or from DNS.`;
      throw new InvalidInputError(message, { protocol: message });
    }
  }
  // Settings are checked against the protocol the listener will have; stored ones are re-shaped
  // when only the protocol changes, so keys of the old protocol do not linger.
  const settings = settingsFor(protocol, given ?? (protocol !== before.protocol ? {} : undefined));
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    const after = await tx.listener.update({
      where: { id },
      data: {
        ...data,
        ...(settings ? { settings: json(settings) } : {}),
        ...(tls !== undefined ? { tls: tlsColumn(tls) } : {}),
        ...(http2 !== undefined ? { http2: tlsColumn(http2) } : {}),
      },
    });
    return {
      result: after,
      audit: { action: "listener.update", targetType: "listener", targetId: id, before, after },
    };
  });
}

/** A listener's tls or http2 column: JSON, or SQL NULL when off. */
const tlsColumn = (tls: object | null) => (tls ? json(tls) : Prisma.DbNull);

function settingsFor(protocol: "http" | "tcp" | "dns", raw: Record<string, unknown> | undefined) {
  if (raw === undefined) return undefined;
  const parsed = settingsSchemaFor(protocol).safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues)
    fields[["settings", ...issue.path.map(String)].join(".")] ??= issue.message;
  throw new InvalidInputError(Object.values(fields)[0] ?? "Those settings are not valid.", fields);
}

export async function deleteListener(deps: TopologyDeps, actor: Actor, id: string) {
  const before = await getListener(deps, id);
  return commitTopologyChange(deps, actor, before.clusterId, async (tx) => {
    await tx.listener.delete({ where: { id } });
    return {
      result: { id },
      audit: { action: "listener.delete", targetType: "listener", targetId: id, before },
    };
  });
}
