import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { closeServer } from "./net";

/**
 * A real HTTP backend that holds every request until the test releases it:
 * what it holds is exactly what the agent has in flight to it, so balance by
 * in-flight counts can be read from the backends' side.
 */
export interface HoldBackend {
  name: string;
  port: number;
  /** Requests held now. */
  readonly held: number;
  /** Answers every held request (with the backend's name). */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldBackend(name: string): Promise<HoldBackend> {
  const waiting: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    waiting.push(res);
    res.on("close", () => {
      const i = waiting.indexOf(res);
      if (i !== -1) waiting.splice(i, 1);
    });
  });
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    get held() {
      return waiting.length;
    },
    release() {
      for (const res of waiting.splice(0)) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(name);
      }
    },
    close: () => closeServer(server),
  };
}
