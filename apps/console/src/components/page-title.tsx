"use client";

import { usePathname } from "next/navigation";

/** The console's sections as the sidebar names them; shell.tsx builds its links from this list. */
export const SECTIONS: readonly { href: string; label: string; admin?: boolean; exact?: boolean }[] = [
  { href: "/", label: "Overview", exact: true },
  { href: "/pools", label: "Pools" },
  { href: "/listeners", label: "Listeners" },
  { href: "/certificates", label: "Certificates" },
  { href: "/topology", label: "Topology" },
  { href: "/agents", label: "Agents" },
  { href: "/config", label: "Config history" },
  { href: "/audit", label: "Audit log" },
  { href: "/users", label: "Users", admin: true },
  { href: "/tokens", label: "API tokens", admin: true },
];

export function inSection(pathname: string, s: { href: string; exact?: boolean }): boolean {
  return s.exact ? pathname === s.href : pathname === s.href || pathname.startsWith(`${s.href}/`);
}

/** "Pools · demo · Fulcrum": the tab says where you are, most general part first, empty parts left out. */
export function titleText(parts: ReadonlyArray<string | null | undefined>): string {
  return [...parts.filter((p): p is string => Boolean(p?.trim())), "Fulcrum"].join(" · ");
}

/**
 * The browser tab's title. Every page is a client component, so there is no Next metadata to
 * export; React 19 hoists a rendered <title> into <head>, in the server render too. Render one
 * per page: the root layout sets none, so two would compete.
 */
export function PageTitle({ parts }: { parts: ReadonlyArray<string | null | undefined> }) {
  return <title>{titleText(parts)}</title>;
}

/** The current section's title, then `name` (a pool's, an agent's) when it is not the section itself. */
export function SectionTitle({ name }: { name?: string | undefined }) {
  const pathname = usePathname();
  const section = SECTIONS.find((s) => inSection(pathname, s))?.label;
  return <PageTitle parts={[section, name === section ? undefined : name]} />;
}
