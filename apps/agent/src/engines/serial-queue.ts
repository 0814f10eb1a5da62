/**
 * Runs an engine's state changes one at a time, in call order: each task
 * starts once the one before has settled, resolved or rejected (a failed apply
 * must not wedge the engine; its caller still sees the rejection).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * Like run(), but when `task` succeeds the queue stays held until `release`
   * settles (a two-phase apply: nothing else may start between its halves).
   */
  runHeld<T>(task: () => Promise<T>, release: Promise<void>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.then(
      () => release,
      () => {},
    );
    return run;
  }

  /** Settles once every task queued so far has settled. */
  idle(): Promise<unknown> {
    return this.tail;
  }
}
