import { describe, expect, it } from "vitest";
import { CLOSE_CODES, CloseCode, closeCodeFacts, closeCodeForHttpStatus } from "../src/close-codes";

describe("close codes", () => {
  const entries = Object.entries(CLOSE_CODES);

  it("gives every name one code, unique, in the ranges a WebSocket close may use", () => {
    expect(new Set(entries.map(([, f]) => f.code)).size).toBe(entries.length);
    for (const [name, f] of entries) {
      expect(CloseCode[name as keyof typeof CloseCode]).toBe(f.code);
      expect(closeCodeFacts(f.code)).toBe(f);
      expect(f.code === 1000 || f.code === 1001 || (f.code >= 4000 && f.code <= 4999)).toBe(true);
      expect(f.meaning).not.toMatch(/\n/);
    }
    expect(closeCodeFacts(1006)).toBeUndefined();
  });

  it("reads an HTTP refusal of the upgrade as the close code 4000 + status", () => {
    for (const [, f] of entries) {
      if (!("httpStatus" in f)) continue;
      expect(f.code).toBe(4000 + f.httpStatus);
      expect(closeCodeForHttpStatus(f.httpStatus)).toBe(f.code);
    }
    expect(closeCodeForHttpStatus(401)).toBe(CloseCode.unauthorized);
    expect(closeCodeForHttpStatus(429)).toBe(CloseCode.rateLimited);
    expect(closeCodeForHttpStatus(500)).toBeUndefined();
    expect(closeCodeForHttpStatus(undefined)).toBeUndefined();
  });

  it("tells the agent to stop only where retrying cannot help, and to back off when rate limited", () => {
    const stops = entries.filter(([, f]) => f.agent === "stop").map(([n]) => n);
    expect(stops.sort()).toEqual(["protocolUnsupported", "revoked", "unauthorized"]);
    expect(CLOSE_CODES.rateLimited.agent).toBe("back_off");
    expect(CLOSE_CODES.badHello.agent).toBe("reconnect");
  });
});
