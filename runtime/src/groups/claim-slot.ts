import { randomBytes } from "node:crypto";
import { ErrorCode, isChronicleError } from "../errors.js";
import type { MemberContext } from "./member-context.js";
import { slotConsumerName, stateNames, type Slot } from "./names.js";
import type { SlotObservations } from "./slot-observations.js";
import { decodeSlotRecord, isHeld, type ClaimRecord, type SlotRecord } from "./state-records.js";

/** A claim that succeeded: the slot is this member's from `seq` on. @private */
export interface Claim {
  slot: Slot;
  token: string;
  consumer: string;
  /** Sequence of the claim record. */
  seq: number;
  /** When the claim was sent (monotonic): the lease counts from here. */
  sentAt: number;
  /** The floor the claim carried over. */
  floor: number;
}

/**
 * Takes `slot` for this member, waiting as long as it must:
 *
 * - a slot whose last record is a release, a rewind, or nothing is taken at
 *   once, compare-and-set on that record;
 * - a slot an owner holds (its last record a claim, checkpoint or snapshot)
 *   is taken only once this member has seen that record stay the last one
 *   for a whole lease (`timing.leaseMs`, from when it first saw it): the
 *   owner renews by writing at least every heartbeat, so a live owner is
 *   never taken over, and a dead or frozen one is once its lease has ended
 *   (see {@link SlotWriter} for why its lease has ended then).
 *
 * A member that holds the slot wakes a claimer waiting on it with the pulse
 * of its release. Returns undefined once `wanted()` turns false.
 * @private
 */
export async function claimSlot(
  member: MemberContext,
  slot: Slot,
  groupFloor: number,
  observations: SlotObservations,
  wanted: () => boolean,
): Promise<Claim | undefined> {
  const subject = stateNames.slot(member.stream, member.group, slot);
  const { leaseMs } = member.timing;
  let wait = 50;
  while (wanted()) {
    let head;
    try {
      head = await member.log.head(subject, decodeSlotRecord);
    } catch (err) {
      if (!wanted()) return undefined;
      member.onError(err, { stream: member.stream });
      await observations.wait(slot, wait);
      wait = Math.min(wait * 2, member.timing.heartbeatMs);
      continue;
    }
    wait = 50;
    const seen = observations.note(slot, head.seq, head.record?.kind);
    if (isHeld(head.record) || (head.seq > 0 && head.record === undefined)) {
      // held by an owner (or by bytes that are no record: treated the same): wait out its lease
      const left = seen.since + leaseMs - performance.now();
      if (left > 0) {
        await observations.wait(slot, Math.min(left, member.timing.heartbeatMs));
        continue;
      }
    }
    if (!wanted()) return undefined;
    const token = randomBytes(4).toString("hex");
    const consumer = slotConsumerName(member.group, slot, token);
    const floor = floorOf(head.record) ?? groupFloor;
    const record: ClaimRecord = { kind: "claim", member: member.memberId, token, consumer, floor, held: 0, at: Date.now(), write: 0 };
    const sentAt = performance.now();
    try {
      const seq = await member.log.write(subject, record, head.seq, leaseMs);
      return { slot, token, consumer, seq, sentAt, floor };
    } catch (err) {
      if (isChronicleError(err, ErrorCode.WrongLastSequence)) continue;
      // no answer: the claim may be stored all the same
      const after = await member.log.head(subject, decodeSlotRecord).catch(() => undefined);
      const r = after?.record;
      if (after && r && r.kind === "claim" && r.token === token) return { slot, token, consumer, seq: after.seq, sentAt, floor };
      member.onError(err, { stream: member.stream });
    }
  }
  return undefined;
}

function floorOf(record: SlotRecord | undefined): number | undefined {
  return record?.floor;
}

/**
 * Gives up a claim at once, without reading the slot (the member no longer
 * wants it): a release over the claim record, keeping its floor.
 * @private
 */
export async function abandonClaim(member: MemberContext, claim: Claim): Promise<void> {
  const subject = stateNames.slot(member.stream, member.group, claim.slot);
  await member.log
    .write(
      subject,
      { kind: "release", member: member.memberId, token: claim.token, consumer: claim.consumer, floor: claim.floor, held: 0, at: Date.now(), write: 1 },
      claim.seq,
      member.timing.leaseMs,
    )
    .then(
      (seq) => member.conn.nc.publish(stateNames.pulse(member.stream, member.group, claim.slot), `${seq} release`),
      () => undefined,
    );
}
