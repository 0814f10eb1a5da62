import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { waitFor } from "./console";

const BIN = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

export interface RunningNginx {
  dir: string;
  errorLog(): string;
  stop(): Promise<void>;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });

/** A real nginx (Debian's) in the foreground with `http` as its http { } block; resolves once `port` accepts. */
export async function startNginx(http: string, port: number): Promise<RunningNginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "fulcrum-nginx-"));
  const conf = path.join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `${isRoot ? "user root root;\n" : ""}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp-body;
  proxy_temp_path ${dir}/tmp-proxy;
  fastcgi_temp_path ${dir}/tmp-fastcgi;
  uwsgi_temp_path ${dir}/tmp-uwsgi;
  scgi_temp_path ${dir}/tmp-scgi;
${http}
}
`,
  );
  const child: ChildProcess = spawn(
    BIN,
    ["-p", dir, "-c", conf, "-e", `${dir}/error.log`, "-g", "daemon off;"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const errorLog = () => {
    try {
      return `${stderr}${readFileSync(`${dir}/error.log`, "utf8")}`;
    } catch {
      return stderr;
    }
  };
  try {
    await waitFor(`nginx on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      return listening(port);
    });
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    dir,
    errorLog,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
