import { formatDate } from "../../lib/format";
import { Badge } from "../ui";

/** From this many days before expiry the console warns (the Certificates page, listener forms). */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export function daysToExpiry(notAfter: Date | string, now: number): number {
  return Math.floor((new Date(notAfter).getTime() - now) / DAY_MS);
}

/** "41 days", amber from 30 days, red once expired. */
export function ExpiryBadge({ notAfter, now }: { notAfter: Date | string; now: number }) {
  const days = daysToExpiry(notAfter, now);
  if (days < 0) return <Badge tone="red">expired</Badge>;
  const label = days === 1 ? "1 day" : `${days} days`;
  return days < EXPIRY_WARNING_DAYS ? (
    <Badge tone="amber">
      <span title={`Renew it: fewer than ${EXPIRY_WARNING_DAYS} days left`}>{label} · renew soon</span>
    </Badge>
  ) : (
    <Badge tone="green">{label}</Badge>
  );
}

/** A table cell's expiry: the badge, the date under it. */
export function ExpiryWithDate({ notAfter, now }: { notAfter: Date | string; now: number }) {
  return (
    <>
      <ExpiryBadge notAfter={notAfter} now={now} />
      <div className="text-xs text-zinc-500 dark:text-zinc-400">{formatDate(notAfter)}</div>
    </>
  );
}
