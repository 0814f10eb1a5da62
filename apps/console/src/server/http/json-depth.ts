/**
 * Whether JSON text nests arrays and objects deeper than `max`. It scans the
 * text without parsing it (strings are skipped, escapes included), so a body
 * of 100,000 "[" costs one pass and never a stack frame per level: handlers
 * that walk parsed values recursively (zod, superjson, Prisma) would overflow.
 * Malformed JSON is left to the parser to refuse.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character, a quote among them.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
