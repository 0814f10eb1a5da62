"use client";

import { useEffect, useState } from "react";

type DateLike = Date | string | number | null | undefined;

function toMs(d: DateLike): number | null {
  if (d === null || d === undefined) return null;
  const ms = d instanceof Date ? d.getTime() : new Date(d).getTime();
  return Number.isNaN(ms) ? null : ms;
}

/** "12 s ago", "in 3 h", "just now"; `now` comes from useNow so lists tick together. */
export function relativeTime(d: DateLike, now: number): string {
  const ms = toMs(d);
  if (ms === null) return "—";
  const diff = Math.round((now - ms) / 1000);
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 5) return "just now";
  if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)} min`;
  else if (abs < 86_400) text = `${Math.floor(abs / 3600)} h`;
  else if (abs < 86_400 * 60) text = `${Math.floor(abs / 86_400)} d`;
  else return formatDate(d);
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

export function formatDate(d: DateLike): string {
  const ms = toMs(d);
  if (ms === null) return "—";
  return new Date(ms).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function formatDateTime(d: DateLike): string {
  const ms = toMs(d);
  if (ms === null) return "—";
  return new Date(ms).toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

export function isoString(d: DateLike): string | undefined {
  const ms = toMs(d);
  return ms === null ? undefined : new Date(ms).toISOString();
}

export function shortHash(hash: string): string {
  return hash.slice(0, 10);
}

/** The current time, refreshed every `intervalMs`, for relative timestamps. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
