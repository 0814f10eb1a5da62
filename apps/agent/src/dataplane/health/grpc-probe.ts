import { type ClientHttp2Session, connect as h2Connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { escapeUnprintable } from "@fulcrum/protocol";
import { errorMessage } from "../../errors";
import type { TlsOrigin } from "../pools/backend-tls";
import { upstreamTlsError } from "../pools/backend-tls";
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  GRPC_HEALTH_CHECK_PATH,
  MAX_HEALTH_RESPONSE_BYTES,
  SERVING,
  SERVING_STATUS_NAMES,
} from "./grpc-health-codec";

export interface GrpcProbeTarget {
  address: string;
  port: number;
  /** host:port ([v6]:port), sent as :authority and named in reasons. */
  key: string;
  /** The pool's TLS: HTTP/2 over TLS (ALPN h2) with the same verification as traffic; absent: h2c. */
  tls: TlsOrigin | undefined;
  service: string;
  timeoutMs: number;
}

/** gRPC status names for reasons (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC_CODES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** Peer text in a reason: one line, printable, short. */
const peerText = (s: unknown) => escapeUnprintable(String(s).slice(0, 200));

/**
 * One grpc.health.v1.Health/Check call on a fresh HTTP/2 connection. Resolves
 * undefined when the backend answers grpc-status 0 with SERVING, else the
 * reason the check failed. Never rejects.
 */
export function probeGrpc(t: GrpcProbeTarget): Promise<string | undefined> {
  return new Promise((resolve) => {
    let session: ClientHttp2Session | undefined;
    let settled = false;
    let handshaken = t.tls === undefined;
    const done = (r: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session?.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(`grpc check timed out after ${t.timeoutMs} ms`), t.timeoutMs);
    try {
      session = h2Connect(`${t.tls ? "https" : "http"}://fulcrum.invalid`, {
        settings: { enablePush: false },
        maxHeaderListPairs: 64,
        createConnection: () => {
          if (t.tls === undefined) return netConnect({ host: t.address, port: t.port });
          const tls = t.tls;
          const opts = tls.connectOptions(t.key, t.address);
          const s: TLSSocket = tlsConnect({ ...opts, ALPNProtocols: ["h2"], host: t.address, port: t.port });
          // Registered before the session's own handlers: a failed handshake is named as such, not as a cancelled stream.
          s.once("error", (e) => {
            if (!handshaken) done(`grpc check failed: ${errorMessage(upstreamTlsError(e, t.key))}`);
          });
          s.on("session", (b: Buffer) => tls.rememberSession(t.key, opts.servername || undefined, b));
          s.once("secureConnect", () => {
            handshaken = true;
            // Node would fail later with a vague protocol error: say what is wrong.
            if (s.alpnProtocol !== "h2")
              done("grpc check failed: the backend did not negotiate HTTP/2 (ALPN h2)");
          });
          return s;
        },
      });
    } catch (e) {
      return done(`grpc check could not be sent: ${errorMessage(e)}`);
    }
    session.on("error", (e) => {
      const err = handshaken ? e : upstreamTlsError(e, t.key);
      done(`grpc check failed: ${errorMessage(err)}`);
    });
    const req = session.request({
      ":method": "POST",
      ":path": GRPC_HEALTH_CHECK_PATH,
      ":authority": t.key,
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": `${t.timeoutMs}m`,
      "user-agent": "fulcrum-agent health check",
    });
    req.on("error", (e) => done(`grpc check failed: ${errorMessage(e)}`));
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: unknown;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      // A trailers-only answer (an error without a message) carries grpc-status in the headers.
      if (h["grpc-status"] !== undefined) {
        grpcStatus = String(h["grpc-status"]);
        grpcMessage = h["grpc-message"];
      }
      const type = String(h["content-type"] ?? "");
      if (httpStatus !== 200) done(`grpc check answered HTTP ${httpStatus}, expected 200`);
      else if (!type.startsWith("application/grpc"))
        done(`grpc check answered content-type ${peerText(type)}`);
    });
    req.on("trailers", (h) => {
      grpcStatus = h["grpc-status"] === undefined ? undefined : String(h["grpc-status"]);
      grpcMessage = h["grpc-message"];
    });
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_HEALTH_RESPONSE_BYTES)
        return done(`grpc check response is over ${MAX_HEALTH_RESPONSE_BYTES} bytes`);
      chunks.push(c);
    });
    req.on("end", () => {
      // A TLS port spoken to in clear text, or a server that resets: no HTTP/2 answer at all.
      if (httpStatus === 0)
        return done("grpc check failed: the connection closed without an HTTP/2 response");
      done(verdict(t.service, grpcStatus, grpcMessage, Buffer.concat(chunks)));
    });
    req.end(encodeHealthCheckRequest(t.service));
  });
}

function verdict(service: string, grpcStatus: string | undefined, grpcMessage: unknown, body: Buffer) {
  if (grpcStatus === undefined) return "grpc check answered without a grpc-status";
  if (grpcStatus !== "0") {
    const name = GRPC_CODES[Number(grpcStatus)] ?? "unknown code";
    const msg = grpcMessage === undefined ? "" : `: ${peerText(decodeURIComponentSafe(String(grpcMessage)))}`;
    return `grpc check answered grpc-status ${peerText(grpcStatus)} (${name})${msg}`;
  }
  let status: number;
  try {
    status = decodeHealthCheckResponse(body);
  } catch (e) {
    return `grpc check answered a malformed HealthCheckResponse: ${errorMessage(e)}`;
  }
  if (status === SERVING) return undefined;
  const what = service === "" ? "the server" : `service ${service}`;
  return `grpc check: ${what} is ${SERVING_STATUS_NAMES[status] ?? `status ${status}`}, not SERVING`;
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec); a bad escape is shown as sent. */
function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
