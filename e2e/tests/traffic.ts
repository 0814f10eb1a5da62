/** Requests through the proxy from the test process, counting what answered and what failed. */
export function runTraffic(urls: string[], concurrency = 4) {
  let stopped = false;
  const stats = { ok: 0, failed: 0, errors: [] as string[], bodies: new Map<string, Map<string, number>>() };
  for (const u of urls) stats.bodies.set(u, new Map());
  async function worker(i: number) {
    let n = i;
    while (!stopped) {
      const url = urls[n++ % urls.length] as string;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        const body = await res.text();
        if (res.status !== 200) {
          stats.failed++;
          stats.errors.push(`${url} → ${res.status} ${body.slice(0, 80)}`);
        } else {
          stats.ok++;
          const m = stats.bodies.get(url) as Map<string, number>;
          m.set(body, (m.get(body) ?? 0) + 1);
        }
      } catch (err) {
        stats.failed++;
        stats.errors.push(`${url} → ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const workers = Array.from({ length: concurrency }, (_, i) => worker(i));
  return {
    stats,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return stats;
    },
  };
}

/** The bodies of `n` sequential requests to `url`. */
export async function sample(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    out.push(res.status === 200 ? await res.text() : `HTTP ${res.status}`);
  }
  return out;
}
