import { constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { ClientProtocol, ClientReq, ClientTarget } from "../../http/client-side";
import { badH2ResponseHead } from "./h2-response-head";

/**
 * One HTTP/2 stream read as an HTTP/1.1 request for an HTTP/1.1 backend
 * (RFC 9113 §8.2–8.3). nghttp2 has already refused what HTTP/2 forbids:
 * connection-specific fields (connection, keep-alive, proxy-connection,
 * transfer-encoding, upgrade), `te` other than "trailers", upper-case names,
 * a missing or repeated pseudo-header, DATA longer or shorter than
 * content-length — each a stream error the client sees as RST_STREAM
 * PROTOCOL_ERROR, before a request reaches us (tested in test/h2/).
 */
export const H2_PROTOCOL: ClientProtocol = {
  target,
  transferCodingStatus: () => 0,
  rawHeaders: http1Fields,
  bodyless: (req) => (req as Http2ServerRequest).stream.endAfterHeaders,
  closesOnRefusal: false,
  reasonPhrase: false,
  forwardsTrailers: true,
  countsConnectionPerRequest: false,
  cut: (res) => (res as unknown as Http2ServerResponse).stream.close(constants.NGHTTP2_INTERNAL_ERROR),
  badResponseHead: badH2ResponseHead,
};

/** :path and :authority (Host when :authority is absent, §8.3.1); CONNECT (no :path) is refused. */
function target(req: ClientReq): ClientTarget | undefined {
  const h = (req as Http2ServerRequest).headers;
  const path = h[":path"];
  if (typeof path !== "string" || (path.charCodeAt(0) !== 47 && !(path === "*" && req.method === "OPTIONS")))
    return undefined;
  const authority = h[":authority"];
  const host = typeof authority === "string" && authority !== "" ? authority : h.host;
  return { url: path, host: typeof host === "string" ? host : undefined, absolute: false };
}

/**
 * The stream's fields as HTTP/1.1 ones: pseudo-headers left out (they are
 * the request line now), Host from :authority (the client's own Host
 * dropped then: §8.3.1 says :authority wins), cookie crumbs joined with
 * "; " into one field (§8.2.3). Hop-by-hop fields are dropped by the
 * proxy's forwarding rewrite like any client's.
 */
function http1Fields(req: ClientReq): string[] {
  const raw = req.rawHeaders;
  const authority = (req as Http2ServerRequest).headers[":authority"];
  const out: string[] = [];
  const hasAuthority = typeof authority === "string" && authority !== "";
  if (hasAuthority) out.push("host", authority);
  let cookie: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58) continue; // ':'
    if (name === "cookie") {
      cookie = cookie === undefined ? raw[i + 1]! : `${cookie}; ${raw[i + 1]!}`;
      continue;
    }
    // Only :authority replaces the client's Host; without it, Host is the target wherever it stands.
    if (name === "host" && hasAuthority) continue;
    out.push(name, raw[i + 1]!);
  }
  if (cookie !== undefined) out.push("cookie", cookie);
  return out;
}
