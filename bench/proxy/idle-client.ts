/**
 * Child process that holds idle keep-alive connections for the harness, so the
 * client side's sockets are spread over several processes (each has its own
 * open-file limit). Driven over IPC by idle.ts.
 */
import { connect, type Socket } from "node:net";

export type IdleCommand =
  | { cmd: "open"; port: number; count: number; addresses: string[]; batch: number; deadlineMs: number }
  | { cmd: "count" }
  | { cmd: "close" };

export type IdleReply =
  | { kind: "opened"; opened: number; failed: number; firstError?: string }
  | { kind: "count"; open: number };

const REQUEST = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n";

/**
 * Opens one connection, sends one request and resolves once the whole response has
 * arrived; the server keeps the connection (keep-alive) and it stays idle.
 */
function openOne(port: number, localAddress: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, localAddress });
    let buf = "";
    const timer = setTimeout(() => fail(new Error("timed out opening an idle connection")), timeoutMs);
    function fail(e: Error) {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    }
    s.once("error", fail);
    s.once("connect", () => s.write(REQUEST));
    s.setEncoding("latin1");
    const onData = (d: string) => {
      buf += d;
      const head = buf.indexOf("\r\n\r\n");
      if (head === -1) return;
      if (!/^HTTP\/1\.1 200/.test(buf)) return fail(new Error(`unexpected response: ${buf.slice(0, 40)}`));
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(buf.slice(0, head));
      if (!len) return fail(new Error("response without content-length"));
      if (buf.length - head - 4 < Number(len[1])) return;
      clearTimeout(timer);
      s.off("data", onData);
      s.off("error", fail);
      s.on("error", () => {}); // counted through "close"
      resolve(s);
    };
    s.on("data", onData);
  });
}

const sockets = new Set<Socket>();

async function openAll(c: Extract<IdleCommand, { cmd: "open" }>): Promise<IdleReply> {
  const t0 = Date.now();
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  for (let i = 0; i < c.count && Date.now() - t0 < c.deadlineMs; i += c.batch) {
    const n = Math.min(c.batch, c.count - i);
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, k) =>
        openOne(c.port, c.addresses[(i + k) % c.addresses.length]!, 10_000),
      ),
    );
    for (const r of results) {
      if (r.status === "fulfilled") {
        opened++;
        sockets.add(r.value);
        r.value.once("close", () => sockets.delete(r.value));
      } else {
        failed++;
        firstError ??= r.reason instanceof Error ? r.reason.message : String(r.reason);
      }
    }
    // A batch that failed whole means a limit was reached: more attempts would only wait.
    if (results.every((r) => r.status === "rejected")) break;
  }
  return { kind: "opened", opened, failed, ...(firstError ? { firstError } : {}) };
}

function closeAll(): void {
  for (const s of sockets) s.destroy();
  sockets.clear();
}

if (process.send) {
  process.on("disconnect", () => {
    closeAll();
    process.exit(0);
  });
  process.on("message", (m: IdleCommand) => {
    if (m.cmd === "open") void openAll(m).then((r) => process.send!(r));
    else if (m.cmd === "count") process.send!({ kind: "count", open: sockets.size } satisfies IdleReply);
    else {
      closeAll();
      process.exit(0);
    }
  });
}
