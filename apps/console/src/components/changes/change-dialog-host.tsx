"use client";

import { createContext, type ReactNode, useContext } from "react";
import { useChangeDialog } from "./change-dialog";
import type { ChangeSpec } from "./types";

const HostContext = createContext<((spec: ChangeSpec) => void) | null>(null);

/**
 * Renders change dialogs above the page (mounted once in the console shell), so a
 * dialog outlives the component that opened it: deleting a pool from its card
 * removes the card, yet the rollout (ACK/NACK per agent) stays on screen.
 */
export function ChangeDialogHost({ children }: { children: ReactNode }) {
  const { open, dialog } = useChangeDialog();
  return (
    <HostContext.Provider value={open}>
      {children}
      {dialog}
    </HostContext.Provider>
  );
}

/**
 * `useChangeDialog` for changes that remove their own trigger (deletes): opens the
 * dialog in the nearest ChangeDialogHost, or renders it locally when there is none.
 */
export function useHostedChangeDialog(): { open: (spec: ChangeSpec) => void; dialog: ReactNode } {
  const host = useContext(HostContext);
  const local = useChangeDialog();
  return host ? { open: host, dialog: null } : local;
}
