"use client";

import type { ReactNode } from "react";
import type { z } from "zod";
import { validate } from "../../lib/validate";
import { useChangeDialog } from "./change-dialog";
import type { ChangeRequest } from "./types";

type FormKind = Extract<
  ChangeRequest["kind"],
  `${"listener" | "route" | "backend" | "pool"}.${"create" | "update"}`
>;

const NOUN: Record<string, string> = {
  listener: "listener",
  route: "route",
  backend: "backend",
  pool: "pool",
};

/** One create or update a topology form wants to make, with the mutation that makes it. */
export interface FormChange {
  kind: FormKind;
  schema: z.ZodType;
  input: unknown;
  apply: () => Promise<unknown>;
}

/** Pairs a form's input with its mutation, so create and edit can share one submit path. */
export function formChange<I>(
  kind: FormKind,
  schema: z.ZodType,
  input: I,
  send: (input: I) => Promise<unknown>,
): FormChange {
  return { kind, schema, input, apply: () => send(input) };
}

/**
 * A drop-in for `submitValidated` in the topology forms: validates with the
 * server's schema, then opens the dry run (effect, diff) and applies only on
 * confirm. Resolves true once the change was applied and the dialog closed,
 * false when invalid or cancelled.
 */
export function useDryRunSubmit(): {
  submit: (
    change: FormChange,
    setClientErrors: (errors: Record<string, string> | null) => void,
  ) => Promise<boolean>;
  dialog: ReactNode;
} {
  const change = useChangeDialog();
  return {
    dialog: change.dialog,
    submit: ({ kind, schema, input, apply }, setClientErrors) =>
      new Promise<boolean>((resolve) => {
        const invalid = validate(schema, input);
        setClientErrors(invalid);
        if (invalid) {
          resolve(false);
          return;
        }
        const [object = "", action] = kind.split(".");
        const noun = NOUN[object] ?? object;
        const verb = action === "create" ? "Create" : "Save";
        change.open({
          title: `${verb} ${noun}?`,
          request: { kind, input } as ChangeRequest,
          confirmLabel: `${verb} ${noun}`,
          done: `${action === "create" ? "Created" : "Saved"} ${noun}`,
          apply,
          onApplied: () => resolve(true),
          onCancelled: () => resolve(false),
        });
      }),
  };
}
