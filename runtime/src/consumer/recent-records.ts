/**
 * The idempotency keys a member handled lately, each with the tick (of a
 * counter that only grows) at which its record was confirmed, or `Infinity`
 * while the record is in flight. A lookup carries the tick of when it was
 * issued ({@link stamp}); its answer cannot include a record confirmed after
 * that, so for such a key {@link doneSince} says "done" whatever the store
 * answered. This lets lookups start when events arrive and records complete
 * after the key's next event began, without a re-published duplicate right
 * behind its original slipping through.
 *
 * Bounded: beyond `limit` keys, the oldest confirmed ones go, and a lookup
 * issued before a forgotten key's confirmation is {@link stale} (look it up
 * again). Keys whose record is in flight are never forgotten; there are at
 * most `maxConcurrency` of them.
 * @private
 */
export class RecentRecords {
  private tick = 0;
  private evictedUpTo = 0;
  private readonly at = new Map<string, number>();

  constructor(private readonly limit = 16_384) {}

  /** The tick to stamp a lookup with when it is issued. */
  stamp(): number {
    return this.tick;
  }

  /** This member ran the handler of `key` successfully; its record is in flight. */
  handled(key: string): void {
    this.at.delete(key);
    this.at.set(key, Infinity);
  }

  /** The record of `key` was confirmed (or failed: then the store's answer stands, as without this class). */
  recorded(key: string): void {
    if (this.at.get(key) === Infinity) this.at.set(key, ++this.tick);
    while (this.at.size > this.limit) {
      const [oldest, t] = this.at.entries().next().value as [string, number];
      if (t === Infinity) break;
      this.at.delete(oldest);
      if (t > this.evictedUpTo) this.evictedUpTo = t;
    }
  }

  /** True when `key` was handled here and its record confirmed after (or not before) a lookup stamped `stamp` was issued. */
  doneSince(key: string, stamp: number): boolean {
    const t = this.at.get(key);
    return t !== undefined && t > stamp;
  }

  /** True when a key confirmed after `stamp` was forgotten: that lookup's answer can no longer be completed here. */
  stale(stamp: number): boolean {
    return stamp < this.evictedUpTo;
  }

  /** Keys held. */
  get size(): number {
    return this.at.size;
  }
}
