/**
 * A time-ordered buffer of points that charts read from directly. It lives in a ref:
 * new points reach uPlot through `subscribe` + `setData`, never through React state.
 */
export class TimeStore<T extends { t: number }> {
  rows: T[] = [];
  /** Spacing of the points; gaps longer than 1.5 steps are drawn as breaks. */
  stepMs = 1000;
  /** Right edge of the x axis (server clock). */
  end: number;
  private skew = 0;
  private listeners = new Set<() => void>();

  constructor(
    readonly windowMs: number,
    readonly live: boolean,
  ) {
    this.end = Date.now();
  }

  get start(): number {
    return this.end - this.windowMs;
  }

  /** Loads history; points already streamed after its last one are kept. */
  setHistory(rows: readonly T[], stepMs: number) {
    const sorted = [...rows].sort((a, b) => a.t - b.t);
    const last = sorted.at(-1)?.t ?? Number.NEGATIVE_INFINITY;
    this.rows = sorted.concat(this.rows.filter((r) => r.t > last));
    if (stepMs > 0) this.stepMs = stepMs;
    this.end = this.live ? Math.max(this.end, this.rows.at(-1)?.t ?? 0) : Date.now();
    this.trim();
    this.emit();
  }

  /** Appends one streamed point (replaces a point with the same time). */
  push(row: T) {
    this.skew = row.t - Date.now();
    const rows = this.rows;
    const last = rows.at(-1);
    if (!last || row.t > last.t) rows.push(row);
    else if (row.t === last.t) rows[rows.length - 1] = row;
    else {
      let i = rows.length - 1;
      while (i >= 0 && rows[i]!.t > row.t) i--;
      if (i >= 0 && rows[i]!.t === row.t) rows[i] = row;
      else rows.splice(i + 1, 0, row);
    }
    if (row.t > this.end) this.end = row.t;
    this.trim();
    this.emit();
  }

  /** Moves a live window on when points stop arriving, so a quiet chart still scrolls. */
  tick() {
    const now = Date.now() + this.skew;
    if (now - this.end > 1500) {
      this.end = now;
      this.trim();
      this.emit();
    }
  }

  latest(): T | undefined {
    return this.rows.at(-1);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  private trim() {
    const from = this.start;
    let n = 0;
    while (n < this.rows.length && this.rows[n]!.t < from) n++;
    if (n > 0) this.rows.splice(0, n);
  }

  private emit() {
    for (const fn of this.listeners) fn();
  }
}

export type Accessor<T> = (row: T) => number | null | undefined;

/**
 * Columns for uPlot: [xs, ...ys], with a null row wherever a step is missing so
 * lines break instead of bridging the hole.
 */
export function alignRows<T extends { t: number }>(
  rows: readonly T[],
  stepMs: number,
  accessors: readonly Accessor<T>[],
): [number[], ...(number | null)[][]] {
  const xs: number[] = [];
  const ys: (number | null)[][] = accessors.map(() => []);
  const maxGap = stepMs * 1.5;
  let prev: number | null = null;
  for (const row of rows) {
    if (prev !== null && row.t - prev > maxGap) {
      xs.push(prev + stepMs);
      for (const col of ys) col.push(null);
    }
    xs.push(row.t);
    for (let i = 0; i < accessors.length; i++) {
      const v = accessors[i]!(row);
      ys[i]!.push(v === undefined || v === null || Number.isNaN(v) ? null : v);
    }
    prev = row.t;
  }
  return [xs, ...ys];
}

/** The newest non-null value of one accessor. */
export function latestValue<T>(rows: readonly T[], accessor: Accessor<T>): number | null {
  for (let i = rows.length - 1; i >= 0; i--) {
    const v = accessor(rows[i]!);
    if (v !== null && v !== undefined && !Number.isNaN(v)) return v;
  }
  return null;
}
