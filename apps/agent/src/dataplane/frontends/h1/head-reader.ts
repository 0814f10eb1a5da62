import { CR, LF } from "./chars";

export const HEAD_INCOMPLETE = -1;
export const HEAD_BARE_LF = -2;
export const HEAD_TOO_LARGE = -3;

/**
 * Collects a message head that may arrive in pieces and finds its end
 * (CRLFCRLF). Every LF seen must follow a CR: a bare-LF head is refused here,
 * before it can be read differently by a backend that accepts bare LF.
 * A head contained in one chunk (the usual case) is never copied.
 */
export class HeadReader {
  /** The bytes holding the head once push() returned its end; the head starts at `start`. */
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  private acc: Buffer | undefined;
  /** Where the next LF search starts, so bytes are not rescanned chunk after chunk. */
  private scanned = 0;

  constructor(private readonly maxBytes: number) {}

  get empty(): boolean {
    return this.acc === undefined;
  }

  reset(): void {
    this.acc = undefined;
    this.scanned = 0;
    this.start = 0;
  }

  /**
   * Returns the offset in `buf` just past the head's CRLFCRLF (bytes after it
   * belong to the body or the next message), or a negative HEAD_* code.
   * `owned` false: `chunk` is only lent for this call, so a partial head kept
   * for the next one is copied.
   */
  push(chunk: Buffer, owned = true): number {
    let buf: Buffer;
    if (this.acc === undefined) {
      buf = chunk;
      this.start = 0;
      this.scanned = 0;
      // RFC 9112 §2.2: empty lines before a request line are ignored (clients send them after a body).
      while (buf[this.start] === CR && buf[this.start + 1] === LF) this.start += 2;
      this.scanned = this.start;
    } else {
      buf = Buffer.concat([this.acc, chunk]);
      // Empty lines split across reads ("\r" then "\n...") are skipped as if they came in one.
      const s0 = this.start;
      while (buf[this.start] === CR && buf[this.start + 1] === LF) this.start += 2;
      if (this.start !== s0) this.scanned = this.start;
    }
    const start = this.start;
    let next = buf.length;
    let i = buf.indexOf(LF, this.scanned);
    while (i !== -1) {
      if (i === start || buf[i - 1] !== CR) return HEAD_BARE_LF;
      if (i + 2 >= buf.length) {
        // "\r\n" or "\r\n\r" at the end: decide when more bytes come.
        next = i;
        break;
      }
      if (buf[i + 1] === CR) {
        if (buf[i + 2] !== LF) return HEAD_BARE_LF;
        const end = i + 3;
        if (end - start > this.maxBytes) return HEAD_TOO_LARGE;
        this.buf = buf;
        this.acc = undefined;
        this.scanned = 0;
        return end;
      }
      i = buf.indexOf(LF, i + 1);
    }
    if (buf.length - start > this.maxBytes) return HEAD_TOO_LARGE;
    // Only the bytes from the head's start are kept: skipped empty lines cannot pile up.
    const kept = buf.subarray(start);
    this.acc = owned || buf !== chunk ? kept : Buffer.from(kept);
    this.scanned = next - start;
    this.start = 0;
    return HEAD_INCOMPLETE;
  }
}
