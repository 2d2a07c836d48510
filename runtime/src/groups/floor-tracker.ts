/**
 * The position of a slot: `floor` is the stream sequence at or below which
 * every event of the slot is settled. Events are added in delivery order
 * (stream order: one consumer delivers a slot's events in order) and
 * settled in any order; the floor moves over each settled run at the front.
 * @private
 */
export class FloorTracker {
  private seqs: number[] = [];
  private settled: boolean[] = [];
  /** Absolute position of `seqs[0]`: positions handed out stay valid across compaction. */
  private base = 0;
  private head = 0;

  constructor(public floor: number) {}

  /** An event delivered; returns its position for {@link settle}. */
  add(sequence: number): number {
    this.seqs.push(sequence);
    this.settled.push(false);
    return this.base + this.seqs.length - 1;
  }

  /** The event at `position` is settled; the floor moves over what is settled at the front. */
  settle(position: number): void {
    const i = position - this.base;
    if (i < this.head || i >= this.seqs.length) return;
    this.settled[i] = true;
    while (this.head < this.seqs.length && this.settled[this.head]) this.floor = this.seqs[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.settled = this.settled.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }

  /** Events delivered and not yet behind the floor. */
  get open(): number {
    return this.seqs.length - this.head;
  }

  /** Forgets every event not behind the floor (they will be delivered again from `floor + 1`); the floor stays. */
  reset(): void {
    this.base += this.seqs.length;
    this.seqs = [];
    this.settled = [];
    this.head = 0;
  }
}
