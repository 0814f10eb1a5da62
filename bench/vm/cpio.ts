/**
 * A gzip'd cpio "newc" archive, the format the kernel unpacks as an initramfs. Written
 * here because the host has no cpio tool and the format is a 110-byte text header per
 * entry; symlinks are kept as links (pnpm's node_modules is made of them).
 */
import { createWriteStream, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { createGzip } from "node:zlib";

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

export type Entry =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "file"; readonly path: string; readonly from: string; readonly mode?: number }
  | { readonly kind: "data"; readonly path: string; readonly data: string | Buffer; readonly mode?: number }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string };

/** Entries for a host directory tree at `guestPath`, symlinks kept (relative ones stay valid). */
export function treeEntries(
  hostDir: string,
  guestPath: string,
  skip: (name: string) => boolean = () => false,
): Entry[] {
  const out: Entry[] = [{ kind: "dir", path: guestPath }];
  for (const name of readdirSync(hostDir).sort()) {
    if (skip(name)) continue;
    const host = join(hostDir, name);
    const guest = `${guestPath}/${name}`;
    const st = lstatSync(host);
    if (st.isSymbolicLink()) out.push({ kind: "symlink", path: guest, target: readlinkSync(host) });
    else if (st.isDirectory()) out.push(...treeEntries(host, guest, skip));
    else if (st.isFile()) out.push({ kind: "file", path: guest, from: host, mode: st.mode & 0o7777 });
  }
  return out;
}

function header(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.byteLength(name) + 1;
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  const fields = [ino, mode, 0, 0, mode & S_IFDIR ? 2 : 1, 0, size, 0, 0, 0, 0, nameBytes, 0];
  const head = `070701${fields.map(hex).join("")}${name}\0`;
  return Buffer.concat([Buffer.from(head), pad(110 + nameBytes)]);
}

function pad(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

/** Writes the entries (parents before children, as listed) to a gzip'd newc archive. */
export async function writeCpioGz(file: string, entries: readonly Entry[]): Promise<number> {
  const gz = createGzip({ level: 1 });
  const out = createWriteStream(file);
  gz.pipe(out);
  const write = (b: Buffer) =>
    gz.write(b) ? Promise.resolve() : new Promise<void>((r) => gz.once("drain", r));
  let ino = 1;
  let bytes = 0;
  // The kernel does not create missing parents, so each is written once before its first child.
  const dirs = new Set<string>();
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, "");
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (dirs.has(parent)) continue;
      dirs.add(parent);
      await write(header(ino++, S_IFDIR | 0o755, 0, parent));
    }
    if (e.kind === "dir") {
      if (dirs.has(name)) continue;
      dirs.add(name);
    }
    let mode: number;
    let data: Buffer;
    if (e.kind === "dir") {
      mode = S_IFDIR | 0o755;
      data = Buffer.alloc(0);
    } else if (e.kind === "symlink") {
      mode = S_IFLNK | 0o777;
      data = Buffer.from(e.target);
    } else {
      data = e.kind === "file" ? readFileSync(e.from) : Buffer.from(e.data);
      mode = S_IFREG | (e.mode ?? 0o644);
    }
    await write(header(ino++, mode, data.length, name));
    await write(data);
    await write(pad(data.length));
    bytes += data.length;
  }
  await write(header(ino, 0, 0, "TRAILER!!!"));
  gz.end();
  await finished(out);
  return bytes;
}
