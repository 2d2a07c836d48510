import { ChronicleError, ErrorCode } from "../errors.js";
import { layout } from "../layout/subjects.js";

/** KV bucket where members of every consumer group announce themselves. @private */
export const GROUPS_BUCKET = "chronicle_groups";

/** Consumer metadata keys Chronicle sets on the consumers of its groups. @private */
export const Meta = { Group: "chronicle.group", Slot: "chronicle.slot", Stream: "chronicle.stream", Token: "chronicle.token" } as const;

const GROUP_NAME = /^[A-Za-z0-9_-]{1,48}$/;

/** Throws `invalid_argument` unless `group` is 1-48 of `[A-Za-z0-9_-]`. @private */
export function checkGroupName(group: string): void {
  if (!GROUP_NAME.test(group)) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `group name ${JSON.stringify(group)} must be 1-48 of [A-Za-z0-9_-]`, { context: { group } });
  }
}

/**
 * A unit of work a group hands to one member at a time: a partition of the
 * stream (its number), or the group's queue of redriven dead letters.
 * @private
 */
export type Slot = number | "redrive";

/** The slots of a group: the stream's partitions, then the redrive queue when the stream has a dead-letter stream. @private */
export function groupSlots(partitions: number, hasDeadLetters: boolean): Slot[] {
  const slots: Slot[] = Array.from({ length: partitions }, (_, p) => p);
  if (hasDeadLetters) slots.push("redrive");
  return slots;
}

/** Where a slot's events are stored: stream and subject filter. @private */
export function slotSource(stream: string, group: string, slot: Slot): { stream: string; filter: string } {
  return slot === "redrive"
    ? { stream: layout.dlqStream(stream), filter: `${layout.dlqStream(stream)}.${group}.redrive.>` }
    : { stream, filter: layout.partitionFilter(stream, slot) };
}

/**
 * Names of the JetStream stream that holds the state of every group of one
 * stream (see docs/consumer-groups.md): one subject per (group, slot) with
 * the slot's ownership and position records, one per group for the group's
 * own record, and core subjects (not stored) where owners announce writes.
 * @private
 */
export const stateNames = {
  /** The state stream of `stream`'s groups. */
  stream: (stream: string) => `chronicle_state_${stream}`,
  /** What the state stream stores: `<state>.<group>.<slot>` and `<state>.<group>.group`. */
  filter: (stream: string) => `chronicle_state_${stream}.*.*`,
  /** Records of one slot of a group. */
  slot: (stream: string, group: string, slot: Slot) => `chronicle_state_${stream}.${group}.${slot}`,
  /** The group's own record: its start position and rewind epoch. */
  group: (stream: string, group: string) => `chronicle_state_${stream}.${group}.group`,
  /** Core subject (not stored) on which an owner announces a write to a slot: `<seq> <kind>`. */
  pulse: (stream: string, group: string, slot: Slot) => `chronicle_state_${stream}.${group}.${slot}.pulse`,
  /** Every pulse of a group. */
  pulses: (stream: string, group: string) => `chronicle_state_${stream}.${group}.*.pulse`,
} as const;

/** The slot named by the last token of a state subject, or undefined for the group's own subject. @private */
export function slotOfToken(token: string): Slot | undefined {
  if (token === "redrive") return "redrive";
  return /^\d+$/.test(token) ? Number(token) : undefined;
}

/** Name of the consumer an owner reads a slot through: one per claim (its token). @private */
export function slotConsumerName(group: string, slot: Slot, token: string): string {
  return `chronicle_${group}_${slot}_${token}`;
}

/** KV key prefix of a group's entries. @private */
export function groupKeyPrefix(stream: string, group: string): string {
  return `${stream}.${group}`;
}

/** KV key of one member's heartbeat. @private */
export function memberKey(stream: string, group: string, memberId: string): string {
  return `${stream}.${group}.m.${memberId}`;
}

/** Subject of redrive requests for a group: handled by that group only. @private */
export function redriveSubject(stream: string, group: string, eventName: string, token: string): string {
  return `${stream}_dlq.${group}.redrive.${eventName}.${token}`;
}

/** Where a new group starts reading: the beginning, only new events, a time, or a stream sequence. */
export type StartPosition = "beginning" | "now" | Date | { sequence: number };
