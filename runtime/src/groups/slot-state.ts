import { HandledKeys, type KeyRetention } from "./handled-keys.js";
import type { FailingEntry, SlotRecord } from "./state-records.js";

/** What a new owner knows of a slot once it has read the slot's records. @private */
export interface SlotState {
  /** Every event at or below it is settled. */
  floor: number;
  /** Idempotency keys handled and retained. */
  keys: HandledKeys;
  /** Events above the floor that were dead-lettered. */
  dead: Set<number>;
  /** Failing events and their attempts, by stream sequence. */
  failing: Map<number, FailingEntry>;
  /** Consumers of earlier owners that may still exist (to delete before reading). */
  consumers: Set<string>;
  /** Characters of the records read: how much a snapshot would save. */
  recordChars: number;
}

/**
 * Replays a slot's records, oldest first, into its state. Records of every
 * kind carry the floor; keys accumulate (a snapshot's chunks are keys like
 * any other, so a snapshot cut short by a crash loses nothing); a rewind
 * forgets everything before it. `retention` then forgets what expired by
 * `now`.
 * @private
 */
export function replaySlot(records: readonly SlotRecord[], retention: KeyRetention, now: number, sizeOf: (r: SlotRecord) => number = () => 0): SlotState {
  const state: SlotState = { floor: 0, keys: new HandledKeys(retention), dead: new Set(), failing: new Map(), consumers: new Set(), recordChars: 0 };
  for (const r of records) {
    state.recordChars += sizeOf(r);
    if (r.kind === "rewind") {
      state.floor = r.floor;
      state.keys.clear();
      state.dead.clear();
      state.failing.clear();
      continue;
    }
    state.floor = r.floor;
    state.consumers.add(r.consumer);
    if (r.kind === "claim") continue;
    if (r.kind === "snapshot") {
      for (const [at, keys] of r.keysByTime) for (const k of keys) state.keys.add(k, at);
      for (const s of r.dead) state.dead.add(s);
      state.failing = new Map(r.failing.map((f) => [f[0], f]));
      continue;
    }
    if (r.keys) for (const k of r.keys) state.keys.add(k, r.at);
    if (r.dead) for (const s of r.dead) state.dead.add(s);
    if (r.failing) state.failing = new Map(r.failing.map((f) => [f[0], f]));
  }
  for (const s of state.dead) if (s <= state.floor) state.dead.delete(s);
  for (const s of state.failing.keys()) if (s <= state.floor) state.failing.delete(s);
  state.keys.forget(now);
  return state;
}
