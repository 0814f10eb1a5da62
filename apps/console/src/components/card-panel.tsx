"use client";

import { type ReactNode, useState } from "react";
import { PlusIcon } from "./icons";
import { Button } from "./ui";

export type CardPanel = "add" | "edit" | null;

/** A card opens at most one inline form at a time: adding a child or editing the card's object. */
export function useCardPanel() {
  const [panel, setPanel] = useState<CardPanel>(null);
  return {
    panel,
    toggle: (which: Exclude<CardPanel, null>) => setPanel((cur) => (cur === which ? null : which)),
    close: () => setPanel(null),
  };
}

/** The "Add …" and "Edit" buttons of a card header, each showing or hiding its inline form. */
export function PanelToggle({
  which,
  panel,
  onToggle,
  children,
}: {
  which: Exclude<CardPanel, null>;
  panel: CardPanel;
  onToggle: (which: Exclude<CardPanel, null>) => void;
  children: ReactNode;
}) {
  const open = panel === which;
  return (
    <Button
      size="sm"
      variant={which === "add" && open ? "secondary" : "ghost"}
      aria-expanded={open}
      onClick={() => onToggle(which)}
    >
      {which === "add" ? <PlusIcon /> : null}
      {children}
    </Button>
  );
}
