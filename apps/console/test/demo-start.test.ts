import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleApi } from "../../../scripts/demo/console-api";
import {
  bindingLine,
  consoleBinding,
  consoleOnlyReady,
  dataDescription,
  localUrl,
  seedLine,
} from "../../../scripts/demo/messages";
import { DEMO_LISTENER_PORT, seedDemoTopology } from "../../../scripts/demo/seed";
import { startTestConsole, type TestConsole } from "./support/console";

/** What `bash scripts/start.sh` (scripts/demo/run.ts) does and says, against a real console. */
describe("the start script's demo setup and output", () => {
  const admin = { email: "demo@fulcrum.local", password: "demo-start-password" };
  let c: TestConsole;

  beforeAll(async () => {
    c = await startTestConsole({ FULCRUM_ADMIN_EMAIL: admin.email, FULCRUM_ADMIN_PASSWORD: admin.password });
  });
  afterAll(async () => {
    await c?.stop();
  });

  it("binds the demo console to 127.0.0.1 unless HOST is set, and says so", () => {
    const demo = consoleBinding({}, true);
    expect(demo).toEqual({ host: "127.0.0.1", chosen: false });
    expect(localUrl(demo, 3000)).toBe("http://127.0.0.1:3000");
    expect(bindingLine(demo, 3000, true)).toMatch(/127\.0\.0\.1:3000 only.*HOST=0\.0\.0\.0/);

    const open = consoleBinding({ HOST: "0.0.0.0" }, true);
    expect(open).toEqual({ host: "0.0.0.0", chosen: true });
    expect(localUrl(open, 3000)).toBe("http://127.0.0.1:3000");
    expect(bindingLine(open, 3000, true)).toMatch(/every interface.*demo's password/);

    // The console alone keeps the console's own default.
    expect(consoleBinding({}, false)).toEqual({ host: "0.0.0.0", chosen: false });
  });

  it("names the data without printing DATABASE_URL (it may hold a password)", () => {
    expect(dataDescription({ DATABASE_URL: "postgres://u:secret@db/x" }, "/d")).not.toMatch(/secret/);
    expect(dataDescription({}, "/d")).toBe("/d");
  });

  it("says the demo setup it created and its config version, then finds it on the next start", async () => {
    const api = new ConsoleApi(c.url);
    await api.signIn(admin.email, admin.password);
    const first = await seedDemoTopology(api);
    const versions = await api.query<Array<{ version: number }>>("config.versions", {
      clusterId: first.clusterId,
    });
    expect(first).toMatchObject({ created: true, version: versions[0]!.version });
    const line = seedLine(first, DEMO_LISTENER_PORT);
    expect(line).toMatch(/created the demo setup \(config version \d+\)/);
    expect(line).toContain(`config version ${first.version}`);
    expect(line).toContain(`127.0.0.1:${DEMO_LISTENER_PORT}`);

    const again = await seedDemoTopology(api);
    expect(again).toEqual({ clusterId: first.clusterId, created: false, version: first.version });
    expect(seedLine(again, DEMO_LISTENER_PORT)).toMatch(/found the demo setup from an earlier start/);
  });

  it("console alone: the first page is /setup while no user exists", async () => {
    const fresh = await startTestConsole();
    try {
      const health = (await (await fetch(`${fresh.url}/api/health`)).json()) as { needsSetup: boolean };
      expect(health.needsSetup).toBe(true);
      const text = consoleOnlyReady({
        url: "http://localhost:3000",
        needsSetup: true,
        binding: "b",
        data: "d",
      });
      expect(text).toContain("open http://localhost:3000/setup to create the first admin");
    } finally {
      await fresh.stop();
    }
    const later = consoleOnlyReady({
      url: "http://localhost:3000",
      needsSetup: false,
      binding: "b",
      data: "d",
    });
    expect(later).toContain("open http://localhost:3000 and sign in");
    expect(later).not.toContain("/setup");
  });
});
