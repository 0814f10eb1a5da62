import { describe, expect, it } from "vitest";
import { eligible } from "../src/eligible";
import { backend } from "./backends";

const ids = (bs: { id: string }[]) => bs.map((b) => b.id);

describe("eligible", () => {
  it("skips draining, disabled and unhealthy backends", () => {
    const bs = [
      backend("a"),
      backend("b", { state: "draining" }),
      backend("c", { state: "disabled" }),
      backend("d", { healthy: false }),
      backend("e"),
    ];
    expect(ids(eligible(bs))).toEqual(["a", "e"]);
  });

  it("keeps backups idle while a primary can serve", () => {
    expect(ids(eligible([backend("p"), backend("bk", { backup: true })]))).toEqual(["p"]);
  });

  it("falls back to eligible backups when no primary can serve", () => {
    const bs = [
      backend("p", { state: "disabled" }),
      backend("bk1", { backup: true }),
      backend("bk2", { backup: true, healthy: false }),
    ];
    expect(ids(eligible(bs))).toEqual(["bk1"]);
  });

  it("returns nothing when nothing can serve", () => {
    expect(
      eligible([backend("a", { state: "draining" }), backend("b", { backup: true, state: "disabled" })]),
    ).toEqual([]);
  });
});
