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
  /**
   * Confirmed keys in confirmation order, with their ticks, from `head` on.
   * Eviction reads this queue rather than iterating the Map from its front:
   * V8 leaves deleted Map entries as holes that every new iterator skips, so
   * FIFO eviction through `entries()` costs O(holes) per call.
   */
  private keys: string[] = [];
  private ticks: number[] = [];
  private head = 0;

  constructor(private readonly limit = 16_384) {}

  /** The tick to stamp a lookup with when it is issued. */
  stamp(): number {
    return this.tick;
  }

  /** This member ran the handler of `key` successfully; its record is in flight. */
  handled(key: string): void {
    this.at.set(key, Infinity);
  }

  /** The record of `key` was confirmed (or failed: then the store's answer stands, as without this class). */
  recorded(key: string): void {
    if (this.at.get(key) !== Infinity) return;
    const t = ++this.tick;
    this.at.set(key, t);
    this.keys.push(key);
    this.ticks.push(t);
    while (this.at.size > this.limit && this.head < this.keys.length) {
      const k = this.keys[this.head]!;
      const kt = this.ticks[this.head]!;
      this.head++;
      if (this.at.get(k) !== kt) continue; // handled again since
      this.at.delete(k);
      if (kt > this.evictedUpTo) this.evictedUpTo = kt;
    }
    if (this.head > 4096 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.ticks = this.ticks.slice(this.head);
      this.head = 0;
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
