/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), which every process on the machine
 * shares, so times taken in the console child and in the bench process can be subtracted.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitUntil(what: string, probe: () => boolean, timeoutMs: number, everyMs = 20) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
