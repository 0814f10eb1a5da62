// What `bash scripts/start.sh` tells the person who ran it. Pure functions, so a test can hold
// them to what the start does (apps/console/test/demo-start.test.ts).

/** The environment variables read here (process.env fits; so does a plain object in a test). */
export type Env = Readonly<Record<string, string | undefined>>;

/** The console's own default when HOST is unset (apps/console/src/server/config.ts). */
const CONSOLE_DEFAULT_HOST = "0.0.0.0";
/** The demo signs in with a password printed in the README, so it stays on this machine unless told. */
export const DEMO_DEFAULT_HOST = "127.0.0.1";

export interface Binding {
  host: string;
  /** HOST came from the user's environment. */
  chosen: boolean;
}

export function consoleBinding(env: Env, demo: boolean): Binding {
  const host = env.HOST?.trim();
  if (host) return { host, chosen: true };
  return { host: demo ? DEMO_DEFAULT_HOST : CONSOLE_DEFAULT_HOST, chosen: false };
}

/** FULCRUM_DEMO=0 starts the console alone. */
export function isDemo(env: Env): boolean {
  return env.FULCRUM_DEMO !== "0";
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const ANY = new Set(["0.0.0.0", "::"]);

/** Where the start script itself reaches the console: the bound address, or loopback when it binds them all. */
export function localUrl(b: Binding, port: number): string {
  if (ANY.has(b.host)) return `http://127.0.0.1:${port}`;
  return `http://${b.host.includes(":") ? `[${b.host}]` : b.host}:${port}`;
}

/** The address people open; the console's own default (FULCRUM_PUBLIC_URL, else localhost). */
export function consolePublicUrl(env: Env, port: number): string {
  return env.FULCRUM_PUBLIC_URL?.replace(/\/+$/, "") || `http://localhost:${port}`;
}

/** One line on who can reach the console, and how to change it. */
export function bindingLine(b: Binding, port: number, demo: boolean): string {
  if (LOOPBACK.has(b.host)) {
    return demo && !b.chosen
      ? `listening on ${b.host}:${port} only, since the demo's password is public; HOST=0.0.0.0 bash scripts/start.sh opens it to other machines`
      : `listening on ${b.host}:${port} only`;
  }
  const where = ANY.has(b.host) ? "every interface" : b.host;
  return demo
    ? `listening on ${where}, port ${port} (HOST=${b.host}): other machines can sign in with the demo's password, so change it (FULCRUM_ADMIN_PASSWORD)`
    : `listening on ${where}, port ${port}${b.chosen ? "" : " (set HOST=127.0.0.1 to keep it to this machine)"}`;
}

/** Where the console keeps its data, as the start output names it (never the URL: it may hold a password). */
export function dataDescription(env: Env, dataDir: string): string {
  return env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : dataDir;
}

/** The demo listeners' ports on 127.0.0.1: plain HTTP and HTTPS, both routing to pool "demo". */
export interface DemoPorts {
  http: number;
  https: number;
}

/** The HTTPS address to open: the demo certificate names localhost (and 127.0.0.1, ::1). */
export const demoHttpsUrl = (ports: DemoPorts) => `https://localhost:${ports.https}`;

export interface SeedResult {
  clusterId: string;
  /** The demo's pool, listener and route were created by this start (not found from an earlier one). */
  created: boolean;
  /** The cluster's config version after seeding: what the demo agent applies first. */
  version: number | null;
}

/** Said before the agent's own "applied snapshot version=N", so that line has its context. */
export function seedLine(seed: SeedResult, ports: DemoPorts): string {
  const v = seed.version === null ? "" : ` (config version ${seed.version})`;
  return seed.created
    ? `created the demo setup${v}: pool "demo" with alpha, bravo and charlie, listener demo-web on 127.0.0.1:${ports.http} and demo-web-tls (HTTPS, certificate demo-localhost) on 127.0.0.1:${ports.https} routing to it; the local agent applies it next`
    : `found the demo setup from an earlier start${v}; the local agent serves it`;
}

/** What to open first when the console runs alone (FULCRUM_DEMO=0). */
export function consoleOnlyReady(opts: {
  url: string;
  needsSetup: boolean;
  binding: string;
  data: string;
}): string {
  const first = opts.needsSetup
    ? `open ${opts.url}/setup to create the first admin (no user exists yet; every page leads there)`
    : `open ${opts.url} and sign in`;
  return `
  Fulcrum's console is running (no demo: FULCRUM_DEMO=0).
    ${first}
    ${opts.binding}
    data      ${opts.data}
  Ctrl-C stops it.
`;
}

export function demoReady(opts: {
  url: string;
  admin: { email: string; password: string };
  ports: DemoPorts;
  /** The demo CA's file, to trust for the HTTPS listener. */
  caFile: string;
  binding: string;
  data: string;
}): string {
  return `
  Fulcrum is running.
    console   ${opts.url}   sign in as ${opts.admin.email} / ${opts.admin.password}
              ${opts.binding}
    traffic   http://127.0.0.1:${opts.ports.http}  →  pool "demo": alpha (quick), bravo (slow), charlie (fails now and then)
    https     ${demoHttpsUrl(opts.ports)}  →  the same pool; trust the demo CA: curl --cacert ${opts.caFile} ${demoHttpsUrl(opts.ports)}/
    data      ${opts.data}
  Ctrl-C stops everything.
`;
}
