import type { AddressInfo } from "node:net";
import { connect, createServer, type Socket } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { acceptWithOnread, SHARED_READ_BUFFER } from "../src/dataplane/sockets/accept";

/** Sends `data` on a new connection and resolves with what came back once the server closed it. */
function exchange(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(port, "127.0.0.1", () => c.write(data));
    let got = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => {
      got += d;
    });
    c.on("close", () => resolve(got));
    c.on("error", reject);
  });
}

describe("a bug in one client connection's handler", () => {
  it("drops that connection, is logged, and the listener serves the next one", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const installed = acceptWithOnread(server, SHARED_READ_BUFFER, (socket: Socket) => (n, b) => {
        if (n <= 0) return true;
        const text = Buffer.from(b.subarray(0, n)).toString();
        if (text.startsWith("boom")) throw new Error("bug in a read handler");
        socket.end(`echo ${text}`);
        return true;
      });
      expect(installed).toBe(true);
      const port = (server.address() as AddressInfo).port;
      expect(await exchange(port, "boom")).toBe("");
      expect(await exchange(port, "hello")).toBe("echo hello");
      const logged = stderr.mock.calls.map((c) => String(c[0])).join("");
      expect(logged).toMatch(
        /ERROR internal error contained; the agent keeps serving in="client connection handler".*bug in a read handler/,
      );
    } finally {
      stderr.mockRestore();
      server.close();
    }
  });
});
