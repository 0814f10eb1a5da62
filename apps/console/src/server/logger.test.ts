import { describe, expect, it } from "vitest";
import { formatLogLine } from "./logger";

/** The raw control characters that must never reach a line. */
function rawControls(line: string): string[] {
  return ["\r", "\n", "\u0000", "\u0007", "\u001b"].filter((c) => line.includes(c));
}

// Hostile text a CA problem document or an agent can put in a log field.
const HOSTILE = "urn:acme:error\r\n[console] info forged line\u0000\u001b[31mred";

describe("formatLogLine", () => {
  it("escapes CR, LF, NUL and ESC in string fields, so one call is one line", () => {
    const line = formatLogLine("warn", "acme attempt failed", { name: "shop", err: HOSTILE });
    expect(rawControls(line)).toEqual([]);
    expect(line).toContain("err=urn:acme:error\\u000d\\u000a[console] info forged line\\u0000\\u001b[31mred");
    expect(line.startsWith("[console] warn acme attempt failed name=shop err=")).toBe(true);
  });

  it("escapes the message, Error messages and field names too", () => {
    const line = formatLogLine("error", "pass\nfailed", { "k\r": new Error(`boom\u001b]0;x\u0007`) });
    expect(rawControls(line)).toEqual([]);
    expect(line).toBe("[console] error pass\\u000afailed k\\u000d=boom\\u001b]0;x\\u0007");
  });

  it("leaves printable values as they were", () => {
    expect(formatLogLine("info", "ok", { n: 3, s: "a b", o: { x: 1 } })).toBe(
      '[console] info ok n=3 s=a b o={"x":1}',
    );
  });
});
