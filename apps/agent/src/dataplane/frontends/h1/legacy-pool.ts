import type { AcquireResult, Lease, Outcome, PoolHandle, RequestFacts } from "../../exchange";

/** The shape of the pre-contract PoolRuntime (pick + begin), described structurally so this file does not depend on it. */
interface PickingPool {
  readonly id: string;
  readonly name: string;
  pick(key?: string): { id: string; address: string; port: number; begin(): () => void } | undefined;
}

const adapted = new WeakMap<object, PoolHandle>();

/**
 * The h1 front end speaks only PoolHandle. Until every pool implements it,
 * an older pick()-style pool is wrapped: one retry allowed, in-flight counted
 * through begin().
 */
export function asPoolHandle(pool: unknown): PoolHandle {
  if (typeof (pool as PoolHandle).acquire === "function") return pool as PoolHandle;
  const p = pool as PickingPool;
  let h = adapted.get(p);
  if (h === undefined) {
    h = new PickingPoolHandle(p);
    adapted.set(p, h);
  }
  return h;
}

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];

class PickingPoolHandle implements PoolHandle {
  readonly id: string;
  readonly name: string;
  constructor(private readonly pool: PickingPool) {
    this.id = pool.id;
    this.name = pool.name;
  }

  acquire(facts: RequestFacts, opts?: { readonly exclude?: ReadonlySet<string> }): Promise<AcquireResult> {
    for (let i = 0; i < 8; i++) {
      const b = this.pool.pick(facts.clientIp);
      if (b === undefined) break;
      const key = b.address.includes(":") ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`;
      if (opts?.exclude?.has(key)) continue;
      const done = b.begin();
      const lease: Lease = {
        backend: { id: b.id, address: b.address, port: b.port, key },
        responseHeaders: NO_HEADERS,
        finish: (_o: Outcome) => done(),
      };
      return Promise.resolve({ ok: true, lease });
    }
    return Promise.resolve({ ok: false, reason: "no-backend" });
  }

  mayRetry(attempt: number): boolean {
    return attempt <= 1;
  }
}
