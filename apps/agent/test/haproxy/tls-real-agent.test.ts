import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAgent } from "../helpers/agent-process";
import { type CtlBackend, startCtlBackend } from "../helpers/backends";
import { makeCertificate, type TestCertificate } from "../helpers/certs";
import { freePort } from "../helpers/net";
import { withListenerTls } from "../helpers/snapshot";
import { credentialJson, startStandInConsole } from "../helpers/stand-in-console";
import { httpsGet } from "../helpers/tls-client";
import { BIN, be, http, pool, snap } from "./fixtures";

/*
 * `fulcrum-agent --engine haproxy` following a console that speaks the real
 * protocol: the material sent next to the snapshot reaches HAProxy's cert
 * files (0600), a rotation is acked and served, a snapshot without material
 * is NACKed while HAProxy keeps serving, and a restart serves the stored copy.
 */

let dir: string;
let a: CtlBackend;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-haproxy-tls-agent-"));
  a = await startCtlBackend("a");
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

const tlsSnapshot = (version: number, port: number, cert: TestCertificate): Snapshot =>
  withListenerTls(snap(version, [http("web", port, "p1")], [pool("p1", [be("a", a.port)])]), cert);

describe("a real agent on the HAProxy engine serving HTTPS from the console's snapshot message", () => {
  it("serves the material, rotates it, NACKs a snapshot without it, and restarts on the stored copy", async () => {
    const first = makeCertificate("site", ["example.com"]);
    const second = makeCertificate("site", ["example.com"]);
    const console_ = await startStandInConsole();
    const stateDir = join(dir, "state");
    await mkdir(stateDir, { mode: 0o700 });
    await writeFile(join(stateDir, "credential.json"), credentialJson(console_.url), { mode: 0o600 });
    const port = await freePort();
    const args = ["--engine", "haproxy", "--haproxy-bin", BIN, "--state-dir", stateDir];
    const agent = spawnAgent(["--console", console_.url, ...args]);
    try {
      const ws = await console_.welcomed();
      console_.push(ws, tlsSnapshot(1, port, first), [first.material]);
      expect((await console_.answer(1)).type).toBe("ack");
      const r1 = await httpsGet(port, "example.com");
      expect([r1.status, r1.body, r1.fingerprint]).toEqual([200, "a", first.ref.fingerprint]);
      const pem = join(stateDir, "haproxy", "certs", "site.pem");
      expect((await stat(pem)).mode & 0o777).toBe(0o600);

      console_.push(ws, tlsSnapshot(2, port, second), [second.material]);
      expect((await console_.answer(2)).type).toBe("ack");
      expect((await httpsGet(port, "example.com")).fingerprint).toBe(second.ref.fingerprint);

      console_.push(ws, tlsSnapshot(3, port, first));
      const nack = await console_.answer(3);
      expect(nack.type).toBe("nack");
      expect((nack.payload as { reason: string }).reason).toMatch(/no key material for certificate site/);
      expect((await httpsGet(port, "example.com")).fingerprint).toBe(second.ref.fingerprint);
    } finally {
      expect(await agent.stop()).toBe(0);
      console_.close();
    }

    // The console is gone: the stored snapshot and its material carry the restart.
    const again = spawnAgent(["--console", "http://127.0.0.1:1", ...args]);
    try {
      await again.waitFor(/serving stored snapshot/, 20_000);
      await again.waitFor(/applied snapshot|haproxy started/, 20_000);
      expect((await httpsGet(port, "example.com")).fingerprint).toBe(second.ref.fingerprint);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});
