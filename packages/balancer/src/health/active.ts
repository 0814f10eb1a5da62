export type HealthState = "unknown" | "up" | "down";

export interface HealthTransition {
  readonly from: HealthState;
  readonly to: "up" | "down";
}

export interface ActiveHealthConfig {
  /** Consecutive successes that bring a "down" backend up (≥ 1). */
  readonly rise: number;
  /** Consecutive failures that take an "up" or "unknown" backend down (≥ 1). */
  readonly fall: number;
  /**
   * Where a new backend starts. Default "unknown": it serves (optimistic, so
   * an agent restart is not an outage while the first checks run), the first
   * success makes it "up", `fall` failures in a row make it "down".
   * "down" is the cautious choice: no traffic until `rise` successes.
   */
  readonly initial?: HealthState;
}

/**
 * Rise/fall state machine for active health checks (HAProxy semantics):
 *   unknown --1 success--> up;   unknown --fall failures--> down
 *   up --fall consecutive failures--> down
 *   down --rise consecutive successes--> up
 * Any result of the other kind resets the streak. observe() returns the
 * transition it caused, or null.
 */
export class ActiveHealth {
  private current: HealthState;
  private successes = 0;
  private failures = 0;
  private readonly rise: number;
  private readonly fall: number;

  constructor(config: ActiveHealthConfig) {
    this.rise = Math.max(1, Math.floor(config.rise));
    this.fall = Math.max(1, Math.floor(config.fall));
    this.current = config.initial ?? "unknown";
  }

  get state(): HealthState {
    return this.current;
  }

  /** What BackendView.healthy should say: everything but "down" serves. */
  get healthy(): boolean {
    return this.current !== "down";
  }

  observe(success: boolean): HealthTransition | null {
    if (success) {
      this.failures = 0;
      this.successes++;
      if (this.current === "unknown" || (this.current === "down" && this.successes >= this.rise)) {
        return this.move("up");
      }
    } else {
      this.successes = 0;
      this.failures++;
      if (this.current !== "down" && this.failures >= this.fall) return this.move("down");
    }
    return null;
  }

  /**
   * A verdict reached by another instance of the same checks (the agent's
   * health-leading worker): taken as is, streaks reset. Returns the
   * transition, or null if the state was already `to`.
   */
  adopt(to: "up" | "down"): HealthTransition | null {
    return this.current === to ? null : this.move(to);
  }

  private move(to: "up" | "down"): HealthTransition {
    const from = this.current;
    this.current = to;
    this.successes = 0;
    this.failures = 0;
    return { from, to };
  }
}
