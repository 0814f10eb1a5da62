"use client";

import type { ReactNode } from "react";
import { Button } from "../ui";
import { useHostedChangeDialog } from "./change-dialog-host";
import type { Applied, ChangeRequest } from "./types";

/**
 * ConfirmButton's counterpart for topology changes (deletes): the confirmation is
 * the dry run, with the change's effect and diff, then the rollout. The dialog lives
 * in the shell's ChangeDialogHost: the deleted row or card unmounts, the rollout stays.
 */
export function DryRunButton({
  children,
  title,
  body,
  request,
  apply,
  confirmLabel = "Delete",
  size = "xs",
  variant = "danger-ghost",
}: {
  children: ReactNode;
  title: string;
  body: ReactNode;
  request: ChangeRequest;
  apply: () => Promise<Applied>;
  confirmLabel?: string;
  size?: "xs" | "sm" | "md";
  variant?: "danger-ghost" | "secondary" | "ghost";
}) {
  const change = useHostedChangeDialog();
  return (
    <>
      <Button
        size={size}
        variant={variant}
        onClick={() =>
          change.open({
            title,
            request,
            summary: () => body,
            confirmLabel,
            danger: confirmLabel === "Delete",
            done: title.replace(/\?$/, ""),
            apply,
          })
        }
      >
        {children}
      </Button>
      {change.dialog}
    </>
  );
}
