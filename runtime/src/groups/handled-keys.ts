/** How long and how many handled idempotency keys a slot remembers. */
export interface KeyRetention {
  /** Keys handled longer ago than this are forgotten; default 7 days. */
  ttlMs: number;
  /** At most this many keys per partition (the oldest go first); default 100,000. */
  perPartition: number;
}

/** The retention used for what a group leaves out. */
export const DEFAULT_KEY_RETENTION: KeyRetention = { ttlMs: 7 * 24 * 3600 * 1000, perPartition: 100_000 };

/**
 * The idempotency keys of the events a slot has handled, each with when it
 * was handled (wall clock, ms), bounded by a {@link KeyRetention}: expired
 * keys and, beyond the count, the oldest ones are forgotten.
 *
 * Keys are kept in the order they were added in a queue beside the map, so
 * that forgetting the oldest costs O(1) per key (a Map's own iteration from
 * the front skips the holes that deletions leave, O(holes) per call).
 * @private
 */
export class HandledKeys {
  private readonly at = new Map<string, number>();
  private keys: string[] = [];
  private times: number[] = [];
  private head = 0;

  constructor(private readonly retention: KeyRetention) {}

  /** True when `key` was handled and is still retained at `now`. */
  has(key: string, now: number): boolean {
    const t = this.at.get(key);
    return t !== undefined && now - t <= this.retention.ttlMs;
  }

  /** Remembers `key` as handled at `time` (a later time replaces an earlier one). */
  add(key: string, time: number): void {
    const before = this.at.get(key);
    if (before !== undefined && before >= time) return;
    this.at.set(key, time);
    this.keys.push(key);
    this.times.push(time);
    if (this.at.size > this.retention.perPartition) this.forget(time);
  }

  /** Forgets keys that expired by `now`, and the oldest beyond the count. */
  forget(now: number): void {
    const limit = this.retention.perPartition;
    const oldest = now - this.retention.ttlMs;
    while (this.head < this.keys.length && (this.at.size > limit || this.times[this.head]! < oldest)) {
      const k = this.keys[this.head]!;
      const t = this.times[this.head]!;
      this.head++;
      if (this.at.get(k) === t) this.at.delete(k);
    }
    if (this.head > 4096 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets everything (a rewind). */
  clear(): void {
    this.at.clear();
    this.keys = [];
    this.times = [];
    this.head = 0;
  }

  /** Keys held. */
  get size(): number {
    return this.at.size;
  }

  /**
   * The retained keys, oldest first, grouped by time, in chunks whose keys
   * add up to about `maxChars` characters (for snapshot records under the
   * server's payload limit).
   */
  *chunks(maxChars: number): Generator<[number, string[]][]> {
    let chunk: [number, string[]][] = [];
    let chars = 0;
    for (let i = this.head; i < this.keys.length; i++) {
      const k = this.keys[i]!;
      const t = this.times[i]!;
      if (this.at.get(k) !== t) continue;
      if (chars + k.length + 3 > maxChars && chars > 0) {
        yield chunk;
        chunk = [];
        chars = 0;
      }
      const last = chunk[chunk.length - 1];
      if (last && last[0] === t) last[1].push(k);
      else {
        chunk.push([t, [k]]);
        chars += 16;
      }
      chars += k.length + 3;
    }
    if (chunk.length > 0) yield chunk;
  }
}
