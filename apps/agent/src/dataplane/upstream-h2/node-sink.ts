import type { H2Sink } from "./forward";
import type { Trailers } from "./translate";

/** The members of node's ServerResponse (or Http2ServerResponse) the sink uses. */
export interface NodeResponse {
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Buffer): boolean;
  once(event: "drain", fn: () => void): unknown;
  end(): unknown;
  destroy(): unknown;
  addTrailers?(trailers: Trailers): void;
}

/**
 * An H2Sink over node's ServerResponse (HTTP/1.1 clients of the node:http
 * front end) or Http2ServerResponse: the head as raw pairs, body with
 * back-pressure, trailers with the end (on HTTP/1.1, node sends them on
 * chunked responses, which a backend's response without content-length is).
 */
export function nodeResponseSink(res: NodeResponse, onBytes: (n: number) => void): H2Sink {
  return {
    head(status, headers) {
      res.writeHead(status, headers);
    },
    write(chunk) {
      onBytes(chunk.length);
      return res.write(chunk);
    },
    onceDrain(fn) {
      res.once("drain", fn);
    },
    end(trailers) {
      if (trailers !== undefined && Object.keys(trailers).length > 0) res.addTrailers?.(trailers);
      res.end();
    },
    abort() {
      res.destroy();
    },
  };
}
