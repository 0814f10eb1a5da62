import { describe, expect, it } from "vitest";
import { ACME_FIRST_RETRY_MS, ACME_MAX_RETRY_MS, acmeRetryDelayMs, renewalTime } from "./retry-delay";

describe("ACME retry back-off and renewal time", () => {
  it("doubles from one minute per consecutive failure and stops at the cap", () => {
    expect(acmeRetryDelayMs(0)).toBe(0);
    expect(acmeRetryDelayMs(1)).toBe(ACME_FIRST_RETRY_MS);
    expect(acmeRetryDelayMs(2)).toBe(2 * ACME_FIRST_RETRY_MS);
    expect(acmeRetryDelayMs(5)).toBe(16 * ACME_FIRST_RETRY_MS);
    expect(acmeRetryDelayMs(10)).toBe(ACME_MAX_RETRY_MS);
    expect(acmeRetryDelayMs(1000)).toBe(ACME_MAX_RETRY_MS);
  });

  it("renews at two thirds of the lifetime", () => {
    const from = new Date("2026-01-01T00:00:00Z");
    const to = new Date("2026-04-01T00:00:00Z"); // 90 days
    expect(renewalTime(from, to).toISOString()).toBe("2026-03-02T00:00:00.000Z");
  });
});
