import type { ServerResponse } from "node:http";
import type { H2Sink } from "./forward";

/**
 * An H2Sink over node's ServerResponse (HTTP/1.1 clients of the node:http
 * front end): the head as raw pairs, body with back-pressure, trailers with
 * the last chunk (node sends them on chunked responses, which a backend's
 * HTTP/2 response without content-length becomes).
 */
export function nodeResponseSink(res: ServerResponse, onBytes: (n: number) => void): H2Sink {
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
      if (trailers !== undefined && Object.keys(trailers).length > 0) res.addTrailers(trailers);
      res.end();
    },
    abort() {
      res.destroy();
    },
  };
}
