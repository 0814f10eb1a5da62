import {
  type ClientHttp2Session,
  connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";

export interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders | undefined;
  body: string;
}

/** An HTTP/2 session to `url` (http: h2c with prior knowledge; https: ALPN h2, any certificate). */
export function h2Session(url: string, servername?: string): ClientHttp2Session {
  const s = connect(url, { rejectUnauthorized: false, ...(servername ? { servername } : {}) });
  s.on("error", () => {});
  return s;
}

/** One request on `session`: the whole response, or the stream's error (RST_STREAM, GOAWAY). */
export function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string | Buffer,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let got: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      status = Number(h[":status"]);
      got = h;
    });
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve({ status, headers: got, trailers, body: Buffer.concat(chunks).toString() }));
    req.on("error", reject);
    req.on("close", () => {
      if (req.rstCode !== 0)
        reject(Object.assign(new Error(`stream reset ${req.rstCode}`), { rstCode: req.rstCode }));
    });
    if (body !== undefined) req.end(body);
  });
}

export const closeSession = (s: ClientHttp2Session) =>
  new Promise<void>((r) => {
    if (s.closed || s.destroyed) return r();
    s.close(() => r());
  });
