/**
 * MurmurHash3 x86 32-bit over the UTF-8 bytes of a string, written out so the
 * package stays free of I/O and platform APIs. Not cryptographic: it only has
 * to spread keys and backend ids evenly and be identical on every agent.
 * Matches the reference implementation (e.g. murmur3_32("hello", 0) = 0x248bfa47).
 */
export function murmur3(input: string, seed = 0): number {
  let h = seed >>> 0;
  let k = 0;
  let shift = 0;
  let length = 0;

  const mixBlock = (block: number): void => {
    let b = Math.imul(block, 0xcc9e2d51);
    b = (b << 15) | (b >>> 17);
    b = Math.imul(b, 0x1b873593);
    h ^= b;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  };
  const pushByte = (byte: number): void => {
    k |= byte << shift;
    shift += 8;
    length++;
    if (shift === 32) {
      mixBlock(k);
      k = 0;
      shift = 0;
    }
  };

  for (let i = 0; i < input.length; i++) {
    let c = input.charCodeAt(i);
    if (c < 0x80) {
      pushByte(c);
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < input.length) {
      const lo = input.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (c < 0x800) {
      pushByte(0xc0 | (c >> 6));
      pushByte(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      // Lone surrogates encode as their code unit, like a WTF-8 encoder would.
      pushByte(0xe0 | (c >> 12));
      pushByte(0x80 | ((c >> 6) & 0x3f));
      pushByte(0x80 | (c & 0x3f));
    } else {
      pushByte(0xf0 | (c >> 18));
      pushByte(0x80 | ((c >> 12) & 0x3f));
      pushByte(0x80 | ((c >> 6) & 0x3f));
      pushByte(0x80 | (c & 0x3f));
    }
  }

  if (shift > 0) {
    let b = Math.imul(k, 0xcc9e2d51);
    b = (b << 15) | (b >>> 17);
    b = Math.imul(b, 0x1b873593);
    h ^= b;
  }
  h ^= length;
  return fmix32(h);
}

/** Murmur3's finalizer: a cheap full-avalanche mix of a 32-bit integer. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Maps a 32-bit hash to (0, 1), never 0 or 1, for rendezvous scores. */
export const unitInterval = (h: number): number => ((h >>> 0) + 0.5) / 4294967296;
