import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Snapshot } from "@fulcrum/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CtlBackend, startCtlBackend } from "../helpers/backends";
import { makeCertificate, type TestCertificate } from "../helpers/certs";
import { withListenerTls } from "../helpers/snapshot";
import { ring, rotated, startTlsNode, type TlsNode } from "../helpers/ticket-keys";
import { resumes, takeTicket } from "../helpers/tls-client";
import { BIN, be, http, pool, snap } from "./fixtures";

/*
 * The cluster's ticket keys on the HAProxy engine: the ring reaches HAProxy's
 * tls-ticket-keys file (0600), a ticket from one HAProxy agent resumes on
 * another of the cluster, and across engines (builtin ↔ HAProxy: both are
 * OpenSSL, the agent writes HAProxy's key layout); a rotation goes through
 * `set ssl tls-key` without a reload, and HAProxy, unlike Node, still
 * decrypts tickets made with the previous key.
 */

let dir: string;
let a: CtlBackend;
let cert: TestCertificate;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fulcrum-haproxy-ticket-keys-"));
  a = await startCtlBackend("a");
  cert = makeCertificate("site", ["example.com"]);
});
afterAll(async () => {
  await a.close();
  await rm(dir, { recursive: true, force: true });
});

const tlsSnapshot = (port: number): Snapshot =>
  withListenerTls(snap(1, [http("web", port, "p1")], [pool("p1", [be("a", a.port)])]), cert);

describe("session tickets shared by HAProxy agents of a cluster", () => {
  const clusterRing = ring(1);
  let h1: TlsNode;
  let h2: TlsNode;
  let builtin: TlsNode;
  const haproxyArgs = ["--engine", "haproxy", "--haproxy-bin", BIN];
  const start = (name: string, args: string[]) =>
    startTlsNode({
      stateDir: join(dir, name),
      keys: clusterRing,
      snapshot: tlsSnapshot,
      material: [cert.material],
      args,
    });
  beforeAll(async () => {
    [h1, h2, builtin] = await Promise.all([
      start("h1", haproxyArgs),
      start("h2", haproxyArgs),
      start("builtin", []),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([h1, h2, builtin].filter(Boolean).map((n) => n.stop()));
  });

  it("keeps the keys in a 0600 file named on the bind", async () => {
    const file = join(h1.stateDir, "haproxy", "tls-ticket-keys");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(3);
    expect(await readFile(join(h1.stateDir, "haproxy", "haproxy.cfg"), "utf8")).toContain(
      `tls-ticket-keys '${file}'`,
    );
  });

  for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
    it(`${maxVersion}: a ticket from one HAProxy agent resumes on the other, and across engines both ways`, async () => {
      const fromH1 = await takeTicket(h1.port, "example.com", { maxVersion });
      expect(await resumes(h2.port, "example.com", fromH1, { maxVersion })).toBe(true);
      expect(await resumes(builtin.port, "example.com", fromH1, { maxVersion })).toBe(true);
      const fromBuiltin = await takeTicket(builtin.port, "example.com", { maxVersion });
      expect(await resumes(h2.port, "example.com", fromBuiltin, { maxVersion })).toBe(true);
    });
  }

  it("rotates through the runtime API without a reload; the previous key still decrypts on HAProxy", async () => {
    const before = await takeTicket(h1.port, "example.com");
    const second = rotated(clusterRing);
    for (const n of [h1, h2, builtin]) n.console_.ticketKeys(n.ws, second);
    await Promise.all([h1, h2, builtin].map((n) => n.agent.waitFor(/ticket keys in use.*generation=2\b/)));
    for (const n of [h1, h2]) {
      expect(n.agent.stderr()).toMatch(/haproxy ticket keys rotated through the runtime API/);
      expect(n.agent.stderr()).not.toMatch(/haproxy reloaded/);
    }
    const after = await takeTicket(h2.port, "example.com");
    expect(await resumes(h1.port, "example.com", after)).toBe(true);
    expect(await resumes(builtin.port, "example.com", after)).toBe(true);
    // HAProxy keeps the previous key for decryption; Node holds only the current one.
    expect(await resumes(h2.port, "example.com", before)).toBe(true);
    expect(await resumes(builtin.port, "example.com", before)).toBe(false);
  });
});
