import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import type { Snapshot } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAgent } from "./helpers/agent-process";
import { type CtlBackend, startCtlBackend } from "./helpers/backends";
import { makeCertificate, type TestCertificate } from "./helpers/certs";
import { freePort } from "./helpers/net";
import { backend, httpListener, makeSnapshot, withListenerTls } from "./helpers/snapshot";
import { credentialJson, startStandInConsole } from "./helpers/stand-in-console";

/*
 * The agent process as an operator runs it, following a console that speaks
 * the real protocol: key material arrives next to the snapshot, is kept in the
 * state dir (0600) and carries a restart; a snapshot naming a certificate
 * without material is NACKed with the reason, the agent keeps serving.
 */

/** GET / over TLS with `servername`: the body and the presented certificate's fingerprint. */
function httpsBody(port: number, servername: string): Promise<{ body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
    let raw = "";
    s.setEncoding("utf8");
    s.once("secureConnect", () => {
      // HTTP/1.0: the backend answers without chunked framing, so the body reads as is.
      s.write(`GET / HTTP/1.0\r\nHost: ${servername}\r\n\r\n`);
    });
    s.on("data", (c) => (raw += c));
    s.once("end", () => {
      const fingerprint = s.getPeerCertificate().fingerprint256?.replaceAll(":", "").toLowerCase() ?? "";
      resolve({ body: raw.slice(raw.indexOf("\r\n\r\n") + 4), fingerprint });
      s.destroy();
    });
    s.once("error", reject);
  });
}

let dir: string;
let a: CtlBackend;
let cert: TestCertificate;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-tls-agent-"));
  a = await startCtlBackend("a");
  cert = makeCertificate("site", ["example.com"]);
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

const tlsSnapshot = (version: number, port: number): Snapshot =>
  withListenerTls(makeSnapshot(version, [httpListener(port)], [backend("a", a.port)]), cert);

describe("a real agent serving HTTPS from the console's snapshot message", () => {
  it("serves the material sent with the snapshot, keeps it 0600, NACKs a snapshot without it, and restarts on the stored copy", async () => {
    const console_ = await startStandInConsole();
    const stateDir = join(dir, "state");
    await mkdir(stateDir, { mode: 0o700 });
    await writeFile(join(stateDir, "credential.json"), credentialJson(console_.url), { mode: 0o600 });
    const port = await freePort();
    const agent = spawnAgent(["--console", console_.url, "--state-dir", stateDir]);
    try {
      const ws = await console_.welcomed();
      console_.push(ws, tlsSnapshot(1, port), [cert.material]);
      expect((await console_.answer(1)).type).toBe("ack");
      expect(await httpsBody(port, "example.com")).toEqual({ body: "a", fingerprint: cert.ref.fingerprint });

      const stored = join(stateDir, "tls-material.json");
      expect((await stat(stored)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(stored, "utf8"))).toEqual([cert.material]);
      // The snapshot on disk names the certificate, never its key.
      expect(await readFile(join(stateDir, "snapshot.json"), "utf8")).not.toContain("PRIVATE KEY");

      console_.push(ws, tlsSnapshot(2, port));
      const nack = await console_.answer(2);
      expect(nack.type).toBe("nack");
      expect((nack.payload as { reason: string }).reason).toBe(
        `snapshot_invalid: listener http-${port}: no key material for certificate site`,
      );
      expect((await httpsBody(port, "example.com")).body).toBe("a");
    } finally {
      await agent.stop();
      console_.close();
    }

    // The console is gone: the stored snapshot and its material carry the restart.
    const again = spawnAgent(["--console", "http://127.0.0.1:1", "--state-dir", stateDir]);
    try {
      await again.waitFor(/serving stored snapshot/);
      expect(await httpsBody(port, "example.com")).toEqual({ body: "a", fingerprint: cert.ref.fingerprint });
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});

describe("a real agent serving HTTPS from a --config file", () => {
  it("reads { snapshot, tlsMaterial } (the snapshot message's payload) and serves the listener", async () => {
    const port = await freePort();
    const file = join(dir, "https-config.json");
    await writeFile(file, JSON.stringify({ snapshot: tlsSnapshot(1, port), tlsMaterial: [cert.material] }), {
      mode: 0o600,
    });
    const agent = spawnAgent(["--config", file]);
    try {
      await agent.waitFor(/applied snapshot version=1\b/);
      expect(await httpsBody(port, "example.com")).toEqual({ body: "a", fingerprint: cert.ref.fingerprint });
    } finally {
      await agent.stop();
    }
  });

  it("a file naming a certificate without material is refused at start with the reason", async () => {
    const port = await freePort();
    const file = join(dir, "https-no-material.json");
    await writeFile(file, JSON.stringify(tlsSnapshot(1, port)));
    const agent = spawnAgent(["--config", file]);
    expect(await agent.exited).toBe(2);
    expect(agent.stderr()).toContain(`no key material for certificate site`);
  });
});
