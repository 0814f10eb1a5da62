import Link from "next/link";
import { HistoryIcon } from "./icons";
import { cx } from "./ui";

/** Every object's changes: the audit log filtered to it (with before/after), which links on to config history and rollback. */
export function historyHref(targetType: string, targetId: string, label: string): string {
  return `/audit?${new URLSearchParams({ targetType, targetId, label })}`;
}

export function HistoryLink({
  targetType,
  targetId,
  label,
  compact,
  className,
}: {
  targetType: "pool" | "backend" | "listener" | "route";
  targetId: string;
  label: string;
  compact?: boolean;
  className?: string;
}) {
  return (
    <Link
      href={historyHref(targetType, targetId, label)}
      title={`History of ${label}`}
      className={cx(
        "inline-flex items-center gap-1 rounded text-xs font-medium text-zinc-500 hover:text-indigo-600 dark:text-zinc-400 dark:hover:text-indigo-400",
        className,
      )}
    >
      <HistoryIcon />
      <span className={compact ? "sr-only" : undefined}>History</span>
      <span className="sr-only"> of {label}</span>
    </Link>
  );
}
