import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AGENT_ENROLL_PATH } from "@fulcrum/protocol";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { toNodeHandler } from "better-auth/node";
import { CLIENT_IP_HEADER, trustedOrigins } from "../auth/auth";
import { LoginLimiter } from "../auth/login-limit";
import type { Actor } from "../domain/actor";
import { needsSetup } from "../domain/users";
import { BatchTooLargeError, CrossOriginError, JsonTooDeepError } from "../errors";
import { handlePrometheus, PROMETHEUS_PATH } from "../metrics/prometheus";
import type { Services } from "../services";
import { createContext, resolveActor, toHeaders } from "../trpc/context";
import { appRouter } from "../trpc/root";
import { readBodyWithin } from "./body-limit";
import { handleEnroll } from "./enroll";
import { jsonNestsDeeperThan } from "./json-depth";
import { foreignSender } from "./origin";
import { sendError, sendJson, sendRefusal } from "./respond";
import { handleSignIn, SIGN_IN_PATH } from "./sign-in";

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Pages anyone may open; every other page needs a session. */
const PUBLIC_PAGES = new Set(["/login", "/setup"]);
const TRPC_BASE = "/api/trpc/";

function isPageRequest(pathname: string): boolean {
  return !pathname.startsWith("/_next/") && !pathname.startsWith("/api/") && !/\.[a-z0-9]+$/i.test(pathname);
}

function hasBody(method: string | undefined): boolean {
  return method !== "GET" && method !== "HEAD";
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, "cache-control": "no-store" });
  res.end();
}

/** Who the edge found calling, handed to the tRPC context so the session is looked up once. */
interface EdgeState {
  actor: Actor | null;
  sessionId: string | null;
  requestId: string;
}

/**
 * The console's HTTP routing: APIs are served here by plain Node handlers, and
 * Next.js renders only the pages. Page access is decided on the server too.
 * Every API request passes the edge's limits first (see docs/operations.md):
 * bodies are read here, within a limit that depends on who is calling, and
 * handed on as text; tRPC batches and JSON nesting are bounded; cookie writes
 * must come from the console's own origin.
 */
export function createRequestHandler(services: Services, nextHandler: NodeHandler): NodeHandler {
  const limits = services.config.http;
  const publicUrl = services.config.publicUrl;
  const ownOrigins = trustedOrigins(publicUrl);
  const limiter = new LoginLimiter(services.prisma, services.config.login);
  const edge = new WeakMap<IncomingMessage, EdgeState>();
  const authHandler = toNodeHandler(services.auth);
  const trpcHandler = createHTTPHandler({
    router: appRouter,
    basePath: TRPC_BASE,
    // Lets a client send a large query input (change.preview of 200 moves) as a POST body instead of a URL.
    allowMethodOverride: true,
    // The edge refuses larger batches first, with a clearer message; this holds if that check is ever bypassed.
    maxBatchSize: limits.maxBatch,
    createContext: ({ req }) => createContext(services, toHeaders(req.headers), edge.get(req)),
    onError: ({ error, path, ctx }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        services.log.error("tRPC procedure failed", {
          path,
          requestId: ctx?.requestId,
          err: error.cause ?? error,
        });
    },
  });

  /** The body as text, or undefined when it was refused (the answer is sent). */
  async function readText(
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
  ): Promise<string | undefined> {
    const body = await readBodyWithin(req, res, limit);
    if (body === undefined) return undefined;
    const text = body.toString("utf8");
    if (jsonNestsDeeperThan(text, limits.maxJsonDepth)) {
      sendRefusal(res, new JsonTooDeepError(limits.maxJsonDepth));
      return undefined;
    }
    return text;
  }

  function refuseForeign(req: IncomingMessage, res: ServerResponse): boolean {
    const sender = foreignSender(req.method, req.headers, ownOrigins);
    if (sender === undefined) return false;
    sendRefusal(res, new CrossOriginError(sender, publicUrl));
    return true;
  }

  async function serveAuth(req: IncomingMessage, res: ServerResponse, pathname: string, address: string) {
    if (refuseForeign(req, res)) return;
    if (!hasBody(req.method)) return authHandler(req, res);
    // Sign-in, sign-out and password changes are small: the anonymous limit fits them all.
    const text = await readText(req, res, limits.anonymousBodyBytes);
    if (text === undefined) return;
    // better-auth reads an already-read body from req.body.
    if (text.length > 0) (req as IncomingMessage & { body?: string }).body = text;
    if (req.method === "POST" && pathname === SIGN_IN_PATH)
      return handleSignIn(limiter, authHandler, req, res, text, address);
    return authHandler(req, res);
  }

  async function serveTrpc(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) {
    if (refuseForeign(req, res)) return;
    if (url.searchParams.get("batch")) {
      const calls = url.pathname.slice(TRPC_BASE.length).split(",").length;
      if (calls > limits.maxBatch) return sendRefusal(res, new BatchTooLargeError(calls, limits.maxBatch));
    }
    const who = await resolveActor(services, toHeaders(req.headers));
    edge.set(req, { ...who, requestId });
    if (hasBody(req.method)) {
      const text = await readText(req, res, who.actor ? limits.bodyBytes : limits.anonymousBodyBytes);
      if (text === undefined) return;
      // tRPC reads an already-read body from req.body.
      (req as IncomingMessage & { body?: string }).body = text;
    } else if (jsonNestsDeeperThan(url.searchParams.get("input") ?? "", limits.maxJsonDepth)) {
      return sendRefusal(res, new JsonTooDeepError(limits.maxJsonDepth));
    }
    return trpcHandler(req, res);
  }

  return async (req, res) => {
    const requestId = randomBytes(8).toString("hex");
    res.setHeader("x-request-id", requestId);
    // The rate limiters key on this header; only the socket's own address may set it.
    const address = req.socket.remoteAddress ?? "unknown";
    req.headers[CLIENT_IP_HEADER] = address;
    const url = new URL(req.url ?? "/", "http://console");
    const pathname = url.pathname;
    try {
      if (pathname.startsWith("/api/auth/")) return await serveAuth(req, res, pathname, address);
      if (pathname.startsWith(TRPC_BASE)) return await serveTrpc(req, res, url, requestId);
      if (pathname === AGENT_ENROLL_PATH) {
        if (req.method !== "POST")
          return sendJson(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "use POST" } });
        const text = await readText(req, res, limits.anonymousBodyBytes);
        if (text === undefined) return;
        return await handleEnroll(services, res, text, requestId);
      }
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
      sendError(services, res, err, requestId);
    }
  };
}
