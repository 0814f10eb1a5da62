import { CLOSE_CODES } from "@fulcrum/protocol";
import { describe, expect, it } from "vitest";
import { EXIT_PROTOCOL, EXIT_REFUSED, fatalClose, retryAfterMs } from "../src/console/close-handling";

describe("the agent's reaction to close codes", () => {
  it("exits exactly on the codes the protocol's table marks stop, with its meaning", () => {
    for (const f of Object.values(CLOSE_CODES)) {
      const fatal = fatalClose(f.code);
      expect(fatal !== undefined).toBe(f.agent === "stop");
      if (fatal) expect(fatal.message).toBe(f.meaning);
    }
    expect(fatalClose(CLOSE_CODES.protocolUnsupported.code)?.exitCode).toBe(EXIT_PROTOCOL);
    expect(fatalClose(CLOSE_CODES.revoked.code)?.exitCode).toBe(EXIT_REFUSED);
    expect(fatalClose(1006)).toBeUndefined();
  });

  it("reads Retry-After in seconds, capped at an hour", () => {
    expect(retryAfterMs("30")).toBe(30_000);
    expect(retryAfterMs(["5", "9"])).toBe(5000);
    expect(retryAfterMs("9999999")).toBe(3_600_000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT")).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
