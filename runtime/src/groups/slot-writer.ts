import { ErrorCode, isChronicleError } from "../errors.js";
import { decodeSlotRecord, type SlotRecord } from "./state-records.js";
import type { StateLog } from "./state-log.js";

/** How one write ended: stored, refused because someone else owns the slot now, or given up (stopping, connection closed). @private */
export type WriteOutcome = "stored" | "fenced" | "abandoned";

/** Timing of a slot's lease, from the group's failover bound. @private */
export interface LeaseTiming {
  /** A slot whose subject nobody wrote to for this long may be claimed by another member. */
  leaseMs: number;
  /** The owner stops starting handlers this long before its lease could end (clock rates, delays). */
  marginMs: number;
  /** How long one write waits for its answer before it is sent again (a write cut off by a reconnect gets none). */
  writeTimeoutMs: number;
}

/**
 * The writes of one owner to its slot's subject, one at a time, each
 * compare-and-set on the last sequence the owner wrote; and the owner's
 * lease, which each stored write renews.
 *
 * The lease: a write sent at `t` (this process's monotonic clock) and
 * stored holds the slot until `t + leaseMs - marginMs`. Another member
 * claims a slot only over a record it saw unchanged for `leaseMs` (from
 * when it read it), with compare-and-set on that record: every write of
 * this owner stored after that reading would make the claim fail, and every
 * write after the claim fails here (`fenced`). So when a claim succeeds,
 * this owner's last stored write was sent before the claimer's reading, and
 * its lease ended at least `marginMs` before the claim.
 *
 * A write that fails for any other reason (timeout, no responders, a
 * reconnect) is sent again with backoff: when the compare-and-set then
 * fails, the last record is read, and if it is this very write (its token
 * and write counter), the first attempt was stored and its answer lost.
 * @private
 */
export class SlotWriter {
  /** The last sequence of the subject this owner knows (its own last write). */
  lastSeq: number;
  /** Monotonic time until which the owner may start handlers. */
  leaseUntil: number;
  /** Monotonic time of the last write sent (renewals are due a heartbeat after). */
  lastSentAt = 0;
  /** The owner's write counter. */
  writes = 0;
  /** Set once a write found the slot taken by someone else. */
  fenced = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly log: StateLog,
    readonly subject: string,
    private readonly token: string,
    private readonly timing: LeaseTiming,
    claimSeq: number,
    claimSentAt: number,
    private readonly givingUp: () => boolean,
    private readonly onError: (err: unknown) => void,
  ) {
    this.lastSeq = claimSeq;
    this.leaseUntil = claimSentAt + timing.leaseMs - timing.marginMs;
    this.lastSentAt = claimSentAt;
  }

  /** True while the lease holds at `now` (monotonic ms). */
  leaseHolds(now: number = performance.now()): boolean {
    return !this.fenced && now < this.leaseUntil;
  }

  /**
   * Writes the record `build` makes (called when the write's turn comes,
   * with the next write counter); resolves once it is stored, fenced or
   * given up. Writes run one after another.
   */
  write(build: (write: number) => SlotRecord): Promise<WriteOutcome> {
    const next = this.chain.then(() => this.writeNow(build));
    this.chain = next;
    return next;
  }

  private async writeNow(build: (write: number) => SlotRecord): Promise<WriteOutcome> {
    if (this.fenced) return "fenced";
    const record = build(++this.writes);
    const firstSent = performance.now();
    let wait = 25;
    let reported = false;
    for (;;) {
      if (this.givingUp()) return "abandoned";
      const sent = performance.now();
      this.lastSentAt = sent;
      try {
        this.lastSeq = await this.log.write(this.subject, record, this.lastSeq, this.timing.writeTimeoutMs);
        this.renewed(sent);
        return "stored";
      } catch (err) {
        if (isChronicleError(err, ErrorCode.WrongLastSequence)) {
          const landed = await this.ownWriteLanded(record).catch(() => undefined);
          if (landed === undefined) {
            // cannot tell yet: read again after the backoff
          } else if (landed > 0) {
            this.lastSeq = landed;
            // which attempt was stored is unknown: the first one's send time is the safe start of the lease
            this.renewed(firstSent);
            return "stored";
          } else {
            this.fenced = true;
            return "fenced";
          }
        } else if (!reported && performance.now() - firstSent > this.timing.leaseMs) {
          // a write that has failed for a whole lease is news (handlers have stopped starting); one that is retried is not
          reported = true;
          this.onError(err);
        }
      }
      if (this.givingUp()) return "abandoned";
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 1000);
    }
  }

  private renewed(sentAt: number): void {
    this.leaseUntil = Math.max(this.leaseUntil, sentAt + this.timing.leaseMs - this.timing.marginMs);
  }

  /** The sequence of `record` when it is the subject's last record (an earlier attempt was stored), 0 when someone else wrote. */
  private async ownWriteLanded(record: SlotRecord): Promise<number> {
    const head = await this.log.head(this.subject, decodeSlotRecord);
    const r = head.record;
    return r && r.kind !== "rewind" && r.token === this.token && r.write === (record as { write?: number }).write ? head.seq : 0;
  }

  /** Resolves when the writes queued so far are done. */
  async idle(): Promise<void> {
    await this.chain.catch(() => undefined);
  }
}
