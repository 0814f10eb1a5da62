import Link from "next/link";
import type { ReactNode } from "react";
import { SectionTitle } from "./page-title";
import { EmptyState, PageHeader, Skeleton } from "./ui";

/** The "← Every pool of …" link at the top of detail pages. */
export const BACK_LINK =
  "text-xs font-medium text-indigo-600 hover:text-indigo-500 dark:text-indigo-400 dark:hover:text-indigo-300";

/** A detail page while its object loads: title, description, optional summary, three charts. */
export function DetailSkeleton({ label, withSummary = false }: { label: string; withSummary?: boolean }) {
  return (
    <div role="status" aria-busy="true" aria-label={label} className="space-y-6">
      <SectionTitle />
      <div className="space-y-2">
        <Skeleton className="h-6 w-48" />
        <Skeleton className="h-4 w-96 max-w-full" />
      </div>
      {withSummary ? <Skeleton className="h-20" /> : null}
      <div className="grid gap-4 lg:grid-cols-2 2xl:grid-cols-3">
        {[0, 1, 2].map((i) => (
          <Skeleton key={i} className="h-64" />
        ))}
      </div>
    </div>
  );
}

/** A detail page whose object is gone (deleted, or in another cluster), with the way back to the list. */
export function DetailNotFound({
  icon,
  title,
  href,
  backLabel,
  children,
}: {
  icon: ReactNode;
  title: string;
  href: string;
  backLabel: string;
  children: ReactNode;
}) {
  return (
    <>
      <SectionTitle name={title} />
      <EmptyState
        icon={icon}
        title={title}
        action={
          <Link href={href} className={BACK_LINK}>
            ← {backLabel}
          </Link>
        }
      >
        {children}
      </EmptyState>
    </>
  );
}

/** What a non-admin sees on an admin page; the server refuses its API calls anyway. */
export function AdminsOnly({
  title,
  icon,
  children,
}: {
  title: string;
  icon: ReactNode;
  children: ReactNode;
}) {
  return (
    <>
      <PageHeader title={title} />
      <EmptyState icon={icon} title="Admins only">
        {children}
      </EmptyState>
    </>
  );
}
