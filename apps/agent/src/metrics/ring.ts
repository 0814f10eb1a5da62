/** A bounded FIFO: pushing onto a full ring drops the oldest item. O(1) push and shift. */
export class Ring<T> {
  private items: (T | undefined)[];
  private head = 0;
  private size = 0;
  /** Items dropped because the ring was full, since the last takeDropped(). */
  private dropped = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError("ring capacity must be at least 1");
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.capacity) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      this.dropped++;
    }
    this.items[(this.head + this.size) % this.capacity] = item;
    this.size++;
  }

  /** Removes and returns up to n oldest items, oldest first. */
  shift(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.size > 0) {
      out.push(this.items[this.head] as T);
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
    return out;
  }

  /** Puts items back at the front (oldest first), e.g. a batch whose send failed; drops the oldest beyond capacity. */
  unshift(items: readonly T[]): void {
    const rest = this.shift(this.size);
    const all = [...items, ...rest];
    const over = all.length - this.capacity;
    if (over > 0) this.dropped += over;
    for (const it of over > 0 ? all.slice(over) : all) this.push(it);
  }

  takeDropped(): number {
    const d = this.dropped;
    this.dropped = 0;
    return d;
  }
}
