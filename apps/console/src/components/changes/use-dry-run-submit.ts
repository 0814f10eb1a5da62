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

/**
 * A drop-in for `submitValidated` in the topology forms: validates with the
 * server's schema, then opens the dry run (effect, diff) and applies only on
 * confirm. Resolves true once the change was applied and the dialog closed,
 * false when invalid or cancelled.
 */
export function useDryRunSubmit(): {
  submit: <I>(
    kind: FormKind,
    schema: z.ZodType,
    input: I,
    setClientErrors: (errors: Record<string, string> | null) => void,
    send: (input: I) => Promise<unknown>,
  ) => Promise<boolean>;
  dialog: ReactNode;
} {
  const change = useChangeDialog();
  return {
    dialog: change.dialog,
    submit: (kind, schema, input, setClientErrors, send) =>
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
          apply: () => send(input),
          onApplied: () => resolve(true),
          onCancelled: () => resolve(false),
        });
      }),
  };
}
