import type { BackendView } from "../src/types";

export const backend = (id: string, over: Partial<BackendView> = {}): BackendView => ({
  id,
  weight: 1,
  state: "enabled",
  backup: false,
  healthy: true,
  inFlight: 0,
  ...over,
});

export const picks = (n: number, pick: () => BackendView | undefined): (string | undefined)[] =>
  Array.from({ length: n }, () => pick()?.id);
