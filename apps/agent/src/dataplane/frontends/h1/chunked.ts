import { COLON, CR, HEX, HTAB, LF, SP, TCHAR, VALUE } from "./chars";

const SIZE = 0;
const EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_START = 6;
const TRAILER_NAME = 7;
const TRAILER_LF = 8;
const END_LF = 9;
const SIZE_BWS = 10;
const TRAILER_VALUE = 11;

export const CHUNKED_MORE = -1;
export const CHUNKED_ERROR = -2;

/** A chunk-size of more than 12 hex digits (> 256 TiB) is refused rather than risking precision loss. */
const MAX_SIZE_DIGITS = 12;
const MAX_EXT_BYTES = 4096;

/**
 * Follows chunked framing (RFC 9112 §7.1) over bytes that are forwarded
 * unchanged: it only has to know where the message ends, so chunk data is
 * skipped in bulk and only size lines, extensions and trailers are read byte
 * by byte. Strict: hex digits only, no whitespace in sizes (only the BWS
 * RFC 9112 §7.1.1 allows before an extension's ";"), CRLF only, trailers
 * must be well-formed field lines (token ":" value without CTLs), so a
 * request pipelined after a body missing its last CRLF is refused, not
 * taken for trailers.
 */
export class ChunkedScanner {
  private state = SIZE;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** Chunk-data bytes seen (framing excluded), for byte counters; the caller resets it. */
  dataBytes = 0;

  constructor(private readonly maxTrailerBytes: number) {}

  reset(): void {
    this.state = SIZE;
    this.size = 0;
    this.digits = 0;
    this.lineBytes = 0;
    this.trailerBytes = 0;
  }

  /** Scans buf[from, to): the offset just past the message's end, CHUNKED_MORE, or CHUNKED_ERROR. */
  scan(buf: Buffer, from: number, to: number): number {
    let i = from;
    while (i < to) {
      const c = buf[i]!;
      switch (this.state) {
        case SIZE: {
          const h = HEX[c]!;
          if (h !== 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return CHUNKED_ERROR;
            this.size = this.size * 16 + (h - 1);
          } else if (this.digits === 0) {
            return CHUNKED_ERROR;
          } else if (c === CR) {
            this.state = SIZE_LF;
          } else if (c === 59 /* ; */) {
            this.state = EXT;
            this.lineBytes = 0;
          } else if (c === SP || c === HTAB) {
            this.state = SIZE_BWS;
            this.lineBytes = 0;
          } else {
            return CHUNKED_ERROR;
          }
          i++;
          break;
        }
        case SIZE_BWS:
          // Whitespace after the size is only allowed before an extension.
          if (c === 59 /* ; */) this.state = EXT;
          else if ((c !== SP && c !== HTAB) || ++this.lineBytes > MAX_EXT_BYTES) return CHUNKED_ERROR;
          i++;
          break;
        case EXT:
          if (c === CR) this.state = SIZE_LF;
          else if ((c < 0x20 && c !== HTAB) || c === 0x7f || ++this.lineBytes > MAX_EXT_BYTES) {
            return CHUNKED_ERROR;
          }
          i++;
          break;
        case SIZE_LF:
          if (c !== LF) return CHUNKED_ERROR;
          i++;
          if (this.size === 0) {
            this.state = TRAILER_START;
          } else {
            this.state = DATA;
          }
          break;
        case DATA: {
          const n = Math.min(this.size, to - i);
          i += n;
          this.size -= n;
          this.dataBytes += n;
          if (this.size === 0) this.state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (c !== CR) return CHUNKED_ERROR;
          this.state = DATA_LF;
          i++;
          break;
        case DATA_LF:
          if (c !== LF) return CHUNKED_ERROR;
          this.state = SIZE;
          this.digits = 0;
          this.size = 0;
          i++;
          break;
        case TRAILER_START:
          if (c === CR) this.state = END_LF;
          else if (TCHAR[c] === 1) this.state = TRAILER_NAME;
          else return CHUNKED_ERROR; // obs-fold or junk
          if (++this.trailerBytes > this.maxTrailerBytes) return CHUNKED_ERROR;
          i++;
          break;
        case TRAILER_NAME:
          // field-name ":" with no whitespace before the colon, as in a head.
          if (c === COLON) this.state = TRAILER_VALUE;
          else if (TCHAR[c] !== 1) return CHUNKED_ERROR;
          if (++this.trailerBytes > this.maxTrailerBytes) return CHUNKED_ERROR;
          i++;
          break;
        case TRAILER_VALUE:
          if (c === CR) this.state = TRAILER_LF;
          else if (VALUE[c] !== 1) return CHUNKED_ERROR;
          if (++this.trailerBytes > this.maxTrailerBytes) return CHUNKED_ERROR;
          i++;
          break;
        case TRAILER_LF:
          if (c !== LF) return CHUNKED_ERROR;
          this.state = TRAILER_START;
          i++;
          break;
        case END_LF:
          if (c !== LF) return CHUNKED_ERROR;
          this.reset();
          return i + 1;
      }
    }
    return CHUNKED_MORE;
  }
}
