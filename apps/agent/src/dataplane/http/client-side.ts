import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/**
 * What the node:http-style proxy path (frontends/node-http/http-proxy.ts)
 * needs from one client request and its response, whichever protocol the
 * client speaks: node:http's IncomingMessage/ServerResponse (HTTP/1.1) or
 * node:http2's compatibility objects (one stream of an HTTP/2 connection).
 * The proxy logic (routes, leases, retries, limits, statistics) is written
 * once against this; only the translation differs (frontends/h2/h2-side.ts).
 */
export type ClientReq = IncomingMessage | Http2ServerRequest;

/** The members of ServerResponse and Http2ServerResponse the proxy uses, with one shape. */
export interface ClientRes {
  /** The request this answers (gRPC local replies read its content-type). */
  readonly req?: { readonly headers: { readonly [name: string]: string | string[] | undefined } };
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders | string[]): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: string): unknown;
  destroy(): unknown;
  once(event: "close" | "drain", fn: () => void): unknown;
  on(event: "drain", fn: () => void): unknown;
  off(event: "drain", fn: () => void): unknown;
}

export const clientRes = (res: ServerResponse | Http2ServerResponse): ClientRes =>
  res as unknown as ClientRes;

/** A request's target: origin-form path and query, and the authority it routes on. */
export interface ClientTarget {
  readonly url: string;
  readonly host: string | undefined;
  /** HTTP/1.1 absolute-form: the authority replaces the client's Host upstream. */
  readonly absolute: boolean;
}

/** How one client protocol's requests read; one object per listener kind, no per-request state. */
export interface ClientProtocol {
  /** undefined: a target to refuse (400). */
  target(req: ClientReq): ClientTarget | undefined;
  /** 0 none or chunked, 501 another transfer coding, 400 a malformed list (HTTP/2 carries none). */
  transferCodingStatus(req: ClientReq): 0 | 400 | 501;
  /** The request's fields as HTTP/1.1 name/value pairs (HTTP/2: no pseudo-headers, cookies joined). */
  rawHeaders(req: ClientReq): readonly string[];
  /** No request body follows the head. */
  bodyless(req: ClientReq): boolean;
  /** HTTP/1.1 only: a refusal closes the connection (HTTP/2 ends the stream, the connection stays). */
  readonly closesOnRefusal: boolean;
  /** HTTP/2 has no reason phrase; HTTP/1.1 passes the backend's on. */
  readonly reasonPhrase: boolean;
  /** The backend's trailers are passed on (HTTP/2 carries them on every response). */
  readonly forwardsTrailers: boolean;
  /** Counts the client connection at its first request (node:http hides accepts); HTTP/2 counts sessions itself. */
  readonly countsConnectionPerRequest: boolean;
  /**
   * Cuts a response that cannot be completed (the backend went away mid-body):
   * HTTP/1.1 closes the connection, HTTP/2 resets the stream with
   * INTERNAL_ERROR, never NO_ERROR, so a cut body is not taken for a whole one.
   */
  cut(res: ClientRes): void;
  /**
   * Why a backend's response head cannot be passed on (HTTP/2: a status or a
   * repeated field node:http2 cannot send), or undefined; may drop fields from
   * `headers` in place. The proxy answers 502 instead and blames the backend.
   */
  badResponseHead?(status: number, headers: string[]): string | undefined;
}
