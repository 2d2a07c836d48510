import type { Slot } from "./names.js";

/** The last write of a slot this member knows of, and since when (monotonic ms). @private */
export interface Observation {
  seq: number;
  kind: string | undefined;
  /** When this member first learned that `seq` was stored. */
  since: number;
}

/**
 * What one member has seen of every slot's subject: the last sequence and
 * when it first saw it, from its own reads and from the pulses owners
 * publish after their writes. A claimer may take a held slot whose last
 * record it has seen unchanged for a lease; pulses let the member start
 * that clock at an owner's last write rather than when it began to want
 * the slot, so a crashed owner's slots move one lease after its last write.
 * @private
 */
export class SlotObservations {
  private readonly seen = new Map<Slot, Observation>();
  private readonly waiters = new Map<Slot, (() => void)[]>();

  /** Notes that `seq` is (or was) the last record of `slot`, known to be stored at `at`. Returns the observation. */
  note(slot: Slot, seq: number, kind: string | undefined, at: number = performance.now()): Observation {
    const o = this.seen.get(slot);
    if (o && o.seq === seq) return o;
    if (o && o.seq > seq) return o;
    const next = { seq, kind, since: at };
    this.seen.set(slot, next);
    return next;
  }

  /** A pulse: an owner stored record `seq` of `slot`; wakes whoever waits on the slot. */
  pulse(slot: Slot, seq: number, kind: string): void {
    this.note(slot, seq, kind);
    const w = this.waiters.get(slot);
    if (w) {
      this.waiters.delete(slot);
      for (const f of w) f();
    }
  }

  /** Resolves after `ms`, or sooner when a pulse of `slot` arrives. */
  wait(slot: Slot, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiters.get(slot) ?? [];
      const woken = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = list.indexOf(woken);
        if (i >= 0) list.splice(i, 1);
        resolve();
      }, ms);
      list.push(woken);
      this.waiters.set(slot, list);
    });
  }
}
