/** Waiting publishes are compacted once this many have left the front of the queue (and at least half of it). */
const COMPACT_AFTER = 1024;

/**
 * The bound on publishes in flight, which is the producer's backpressure: up
 * to `max` are admitted at once; the others wait, in call order, and each
 * takes the place of one that settles.
 */
export class PublishWindow<T> {
  private admitted = 0;
  /** A queue with a moving head: `Array#shift` is linear in the number waiting. */
  private waiting: (T | undefined)[] = [];
  private head = 0;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /** Publishes admitted and not yet settled. */
  get inFlight(): number {
    return this.admitted;
  }

  /** True when `item` is admitted now; otherwise it waits, and {@link release} hands it back when its turn comes. */
  admit(item: T): boolean {
    if (this.admitted < this.max) {
      this.admitted++;
      return true;
    }
    this.waiting.push(item);
    return false;
  }

  /** An admitted publish settled: returns the oldest waiting one, admitted in its place, if any. */
  release(): T | undefined {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined;
      if (this.head > COMPACT_AFTER && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      return next;
    }
    this.admitted--;
    if (this.admitted === 0) for (const resolve of this.idle.splice(0)) resolve();
    return undefined;
  }

  /** Resolves once nothing is in flight (at once when nothing is). */
  whenIdle(): Promise<void> {
    if (this.admitted === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
