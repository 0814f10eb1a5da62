import { connect } from "node:net";
import { HaproxyRuntimeError } from "./errors";

/**
 * One command on an HAProxy CLI socket (the stats socket or the master CLI):
 * connect, write the line, read until HAProxy closes. Non-interactive mode,
 * so every command is its own connection.
 */
export function runtimeCommand(socketPath: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(socketPath);
    sock.setTimeout(timeoutMs);
    sock.on("error", (e) =>
      reject(
        new HaproxyRuntimeError(`runtime API ${command.split(" ")[0]} failed: ${e.message}`, { cause: e }),
      ),
    );
    sock.on("timeout", () => {
      sock.destroy();
      reject(new HaproxyRuntimeError(`runtime API "${command}" timed out after ${timeoutMs} ms`));
    });
    sock.on("data", (d) => chunks.push(d));
    sock.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    sock.on("connect", () => sock.end(`${command}\n`));
  });
}

/**
 * Runs a command whose success answer is empty (set server …); any text back
 * is HAProxy's error message.
 */
export async function runtimeSet(socketPath: string, command: string): Promise<void> {
  const out = (await runtimeCommand(socketPath, command)).trim();
  if (out !== "") throw new HaproxyRuntimeError(`runtime API "${command}": ${out}`);
}

/**
 * Replaces a loaded certificate in the running worker: `set ssl cert <file>`
 * with the new PEM as the command's payload, then `commit ssl cert`. On a
 * refusal the transaction is aborted and the error names HAProxy's answer.
 */
export async function setSslCert(socketPath: string, file: string, pem: string): Promise<void> {
  const set = await runtimeCommand(socketPath, `set ssl cert ${file} <<\n${pem.trimEnd()}\n`);
  if (!/Transaction (created|updated)/.test(set)) {
    await runtimeCommand(socketPath, `abort ssl cert ${file}`).catch(() => "");
    throw new HaproxyRuntimeError(`set ssl cert ${file}: ${set.trim()}`);
  }
  const commit = await runtimeCommand(socketPath, `commit ssl cert ${file}`, 10_000);
  if (!/Success!/.test(commit)) {
    await runtimeCommand(socketPath, `abort ssl cert ${file}`).catch(() => "");
    throw new HaproxyRuntimeError(`commit ssl cert ${file}: ${commit.trim()}`);
  }
}

/** `show stat` CSV → one record per row, keyed by the header's field names. */
export function parseShowStat(csv: string): Record<string, string>[] {
  const lines = csv.split("\n").filter((l) => l.length > 0);
  const header = lines[0];
  if (!header?.startsWith("# ")) return [];
  const fields = header.slice(2).split(",");
  return lines.slice(1).map((line) => {
    const values = line.split(",");
    const row: Record<string, string> = {};
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (f) row[f] = values[i] ?? "";
    }
    return row;
  });
}

export interface ProcInfo {
  reloads: number;
  failed: number;
  workers: number[];
}

/** Master CLI `show proc`: the master's reload and failed-reload counters and current worker pids. */
export function parseShowProc(text: string): ProcInfo | undefined {
  const master = /^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]/m.exec(text);
  if (!master) return undefined;
  const workers: number[] = [];
  const section = text.split("# workers")[1]?.split("#")[0] ?? "";
  for (const m of section.matchAll(/^(\d+)\s+worker/gm)) workers.push(Number(m[1]));
  return { reloads: Number(master[1]), failed: Number(master[2]), workers };
}
