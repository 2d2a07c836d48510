/**
 * Records of a group's state log (see docs/consumer-groups.md). Each slot of
 * a group (a partition, or the redrive queue) has one subject in the state
 * stream; every write to it is compare-and-set on the subject's last
 * sequence, so the records of one subject form a single history. JSON, so
 * that `nats stream view` shows them as they are.
 */

/** A failing event's retry state: stream sequence, attempts made, time of the first failure (ms since the epoch). @private */
export type FailingEntry = [sequence: number, attempts: number, firstFailureMs: number];

/** Fields every record of an owner carries: who owns the slot, through which consumer, and where it stands. @private */
export interface OwnerFields {
  /** Member id of the owner. */
  member: string;
  /** The claim's token: every write of one ownership carries it. */
  token: string;
  /** The consumer the owner reads the slot through. */
  consumer: string;
  /** Every event of the slot at or below this stream sequence is settled (handled, skipped or dead-lettered). */
  floor: number;
  /** Events the owner held (delivered, not yet settled) when it wrote this. */
  held: number;
  /** Wall-clock time of the write, ms since the epoch. */
  at: number;
  /** The owner's write counter: tells a write of its own that landed from one by someone else. */
  write: number;
}

/** What a checkpoint or release adds: idempotency keys handled since the last write, dead-lettered events above the floor, the failing events. @private */
export interface Progress {
  /** Idempotency keys handled since the owner's previous write (all at `at`). */
  keys?: string[];
  /** Stream sequences above `floor` that were dead-lettered since the previous write. */
  dead?: number[];
  /** The failing events now (replaces the previous list when present). */
  failing?: FailingEntry[];
}

/** A member took the slot. @private */
export interface ClaimRecord extends OwnerFields {
  kind: "claim";
}
/** The owner's periodic record: progress, and the renewal of its lease. @private */
export interface CheckpointRecord extends OwnerFields, Progress {
  kind: "checkpoint";
}
/** The owner let go cleanly: the next claimer may take the slot at once. @private */
export interface ReleaseRecord extends OwnerFields, Progress {
  kind: "release";
}
/** One chunk of a snapshot of the slot's whole state; the records before its first chunk are then purged. @private */
export interface SnapshotRecord extends OwnerFields {
  kind: "snapshot";
  /** Retained keys grouped by the time they were handled. */
  keysByTime: [at: number, keys: string[]][];
  dead: number[];
  failing: FailingEntry[];
}
/** Written by `rewindGroup` while no member runs: start again after `floor`, with no keys. @private */
export interface RewindRecord {
  kind: "rewind";
  floor: number;
  epoch: number;
  at: number;
}

/** One record of a slot's subject. @private */
export type SlotRecord = ClaimRecord | CheckpointRecord | ReleaseRecord | SnapshotRecord | RewindRecord;

/** The group's own record: where a slot with no history starts, and the rewind epoch. @private */
export interface GroupRecord {
  kind: "group";
  /** Where a slot with no record starts: after this stream sequence. */
  floor: number;
  /** Incremented by each rewind; part of the keys a user-supplied store sees. */
  epoch: number;
  at: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a record. @private */
export function encodeRecord(record: SlotRecord | GroupRecord): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

const OWNER_KINDS = new Set(["claim", "checkpoint", "release", "snapshot"]);

/** Decodes a slot record; undefined for anything that is not one. @private */
export function decodeSlotRecord(data: Uint8Array): SlotRecord | undefined {
  let r: unknown;
  try {
    r = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  if (typeof r !== "object" || r === null) return undefined;
  const rec = r as Record<string, unknown>;
  if (rec["kind"] === "rewind") return typeof rec["floor"] === "number" && typeof rec["epoch"] === "number" ? (rec as unknown as RewindRecord) : undefined;
  if (!OWNER_KINDS.has(rec["kind"] as string)) return undefined;
  if (typeof rec["token"] !== "string" || typeof rec["member"] !== "string" || typeof rec["floor"] !== "number") return undefined;
  return rec as unknown as SlotRecord;
}

/** Decodes the group's record; undefined for anything that is not one. @private */
export function decodeGroupRecord(data: Uint8Array): GroupRecord | undefined {
  try {
    const r = JSON.parse(decoder.decode(data)) as Partial<GroupRecord>;
    return r.kind === "group" && typeof r.floor === "number" && typeof r.epoch === "number" ? (r as GroupRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** True for the records of an owner still holding the slot (not released). @private */
export function isHeld(record: SlotRecord | undefined): record is ClaimRecord | CheckpointRecord | SnapshotRecord {
  return record !== undefined && (record.kind === "claim" || record.kind === "checkpoint" || record.kind === "snapshot");
}
