import type { IncomingMessage, ServerResponse } from "node:http";
import { AGENT_ENROLL_PATH } from "@fulcrum/protocol";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { toNodeHandler } from "better-auth/node";
import { CLIENT_IP_HEADER } from "../auth/auth";
import { needsSetup } from "../domain/users";
import { handlePrometheus, PROMETHEUS_PATH } from "../metrics/prometheus";
import type { Services } from "../services";
import { createContext, resolveActor, toHeaders } from "../trpc/context";
import { appRouter } from "../trpc/root";
import { handleEnroll } from "./enroll";
import { sendJson } from "./respond";

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Pages anyone may open; every other page needs a session. */
const PUBLIC_PAGES = new Set(["/login", "/setup"]);

function isPageRequest(pathname: string): boolean {
  return !pathname.startsWith("/_next/") && !pathname.startsWith("/api/") && !/\.[a-z0-9]+$/i.test(pathname);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, "cache-control": "no-store" });
  res.end();
}

/**
 * The console's HTTP routing: APIs are served here by plain Node handlers, and
 * Next.js renders only the pages. Page access is decided on the server too.
 */
export function createRequestHandler(services: Services, nextHandler: NodeHandler): NodeHandler {
  const authHandler = toNodeHandler(services.auth);
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    // Lets a client send a large query input (change.preview of 200 moves) as a POST body instead of a URL.
    allowMethodOverride: true,
    createContext: ({ req }) => createContext(services, toHeaders(req.headers)),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        services.log.error("tRPC procedure failed", { path, err: error.cause ?? error });
    },
  });

  return async (req, res) => {
    // The rate limiter keys on this header; only the socket's own address may set it.
    req.headers[CLIENT_IP_HEADER] = req.socket.remoteAddress ?? "unknown";
    const pathname = new URL(req.url ?? "/", "http://console").pathname;
    try {
      if (pathname.startsWith("/api/auth/")) return await authHandler(req, res);
      if (pathname.startsWith("/api/trpc/")) return trpcHandler(req, res);
      if (pathname === AGENT_ENROLL_PATH) return await handleEnroll(services, req, res);
      if (pathname === PROMETHEUS_PATH) return await handlePrometheus(services, req, res);
      if (pathname === "/api/health") {
        const setup = await needsSetup(services.prisma);
        return sendJson(res, 200, { ok: true, database: "up", needsSetup: setup });
      }
      if (isPageRequest(pathname)) {
        const setup = await needsSetup(services.prisma);
        if (setup && pathname !== "/setup") return redirect(res, "/setup");
        if (!setup && pathname === "/setup") return redirect(res, "/login");
        if (!PUBLIC_PAGES.has(pathname)) {
          const { actor } = await resolveActor(services, toHeaders(req.headers));
          if (!actor) return redirect(res, `/login?next=${encodeURIComponent(req.url ?? "/")}`);
        }
      }
      return await nextHandler(req, res);
    } catch (err) {
      services.log.error("request failed", { path: pathname, err });
      if (!res.headersSent) sendJson(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
      else res.destroy();
    }
  };
}
