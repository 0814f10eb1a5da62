import type { ReactNode } from "react";
import type { RouterInputs, RouterOutputs } from "../../lib/api-types";

export type ChangeRequest = RouterInputs["change"]["preview"];
export type ChangePreview = RouterOutputs["change"]["preview"];
export type Rollout = RouterOutputs["change"]["rollout"];

/** What a mutation that makes a topology change tells us back: the new version when it returns one. */
export type Applied = { version?: number | null } | unknown;

/**
 * One change to dry-run, apply and (maybe) undo. `request` is what change.preview
 * receives; `apply` runs the real mutation with the same input.
 */
export interface ChangeSpec {
  request: ChangeRequest;
  title: string;
  /** What will happen, in words; it may use the preview (agents, next version, slow start). */
  summary?: (preview: ChangePreview) => ReactNode;
  confirmLabel: string;
  /** Destructive changes get a red button. */
  danger?: boolean;
  apply: () => Promise<Applied>;
  /** The inverse change, when there is one (moves back, the previous states or weights). */
  undo?: () => Promise<Applied>;
  /** Toast text once applied. */
  done: string;
  /** Called when the dialog closes after the change was applied. */
  onApplied?: () => void;
  /** Called when the dialog closes without applying. */
  onCancelled?: () => void;
}
