/** Units the charts know: values are plotted raw and formatted here. */
/** `persec`: events other than requests per second (TLS handshakes). */
export type Unit = "rps" | "persec" | "percent" | "ms" | "bytes" | "count";

export const UNIT_LABEL: Record<Unit, string> = {
  rps: "req/s",
  persec: "/s",
  percent: "%",
  ms: "ms",
  bytes: "B/s",
  count: "",
};

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** 950 → "950", 1234 → "1.2k", 5_600_000 → "5.6M"; small values keep a decimal or two. */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trimZeros((v / 1e9).toFixed(a >= 1e10 ? 0 : 1))}G`;
  if (a >= 1e6) return `${trimZeros((v / 1e6).toFixed(a >= 1e7 ? 0 : 1))}M`;
  if (a >= 1e3) return `${trimZeros((v / 1e3).toFixed(a >= 1e4 ? 0 : 1))}k`;
  if (a === 0) return "0";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return trimZeros(v.toFixed(1));
  if (a >= 0.01) return trimZeros(v.toFixed(2));
  return v.toExponential(0);
}

/** Byte rates in decimal units: 1.2 kB/s, 3.4 MB/s. */
function bytes(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trimZeros((v / 1e9).toFixed(1))} GB/s`;
  if (a >= 1e6) return `${trimZeros((v / 1e6).toFixed(1))} MB/s`;
  if (a >= 1e3) return `${trimZeros((v / 1e3).toFixed(1))} kB/s`;
  return `${Math.round(v)} B/s`;
}

/** A value with its unit, for read-outs: "12.5 req/s", "0.4 %", "38 ms", "1.2 MB/s". */
export function formatValue(v: number | null | undefined, unit: Unit): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  switch (unit) {
    case "rps":
      return `${compact(v)} req/s`;
    case "persec":
      return `${compact(v)}/s`;
    case "percent":
      return `${compact(v)} %`;
    case "ms":
      return v >= 10_000 ? `${trimZeros((v / 1000).toFixed(1))} s` : `${compact(v)} ms`;
    case "bytes":
      return bytes(v);
    case "count":
      return compact(v);
  }
}

/** Axis tick text: compact, the unit is the axis label. */
export function formatTick(v: number, unit: Unit): string {
  if (unit === "percent") return `${compact(v)}%`;
  return compact(v);
}

/** Rounds a maximum up to 1, 2, 2.5 or 5 × 10^n so the y axis does not twitch every second. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * exp) return m * exp;
  return 10 * exp;
}

export function formatClock(t: number, withDate: boolean): string {
  return new Date(t).toLocaleString(undefined, {
    ...(withDate ? { month: "short", day: "numeric" } : {}),
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}
