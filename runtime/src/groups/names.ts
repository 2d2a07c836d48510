import type { ConsumerConfig } from "@nats-io/jetstream";
import { ChronicleError, ErrorCode } from "../errors.js";

/** KV bucket where members of every consumer group announce themselves. @private */
export const GROUPS_BUCKET = "chronicle_groups";
/** Priority group name of every partition consumer (pinned_client). @private */
export const PIN_GROUP = "chronicle";
/** Consumer metadata keys Chronicle sets on its consumers. @private */
export const Meta = { Group: "chronicle.group", Partition: "chronicle.partition", Stream: "chronicle.stream", Kind: "chronicle.kind" } as const;

/** The client the server pins a group consumer's {@link PIN_GROUP} to now, if any (`priority_groups` of its info, server 2.11+). @private */
export function pinnedClient(info: unknown): string | undefined {
  const groups = (info as { priority_groups?: { group?: string; pinned_client_id?: string }[] }).priority_groups;
  const id = groups?.find((g) => g.group === PIN_GROUP)?.pinned_client_id;
  return id ? id : undefined;
}

const GROUP_NAME = /^[A-Za-z0-9_-]{1,48}$/;

/** Throws `invalid_argument` unless `group` is 1-48 of `[A-Za-z0-9_-]`. @private */
export function checkGroupName(group: string): void {
  if (!GROUP_NAME.test(group)) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `group name ${JSON.stringify(group)} must be 1-48 of [A-Za-z0-9_-]`, { context: { group } });
  }
}

/** Durable consumer of one partition of a group. @private */
export function partitionConsumerName(group: string, partition: number): string {
  return `chronicle_${group}_${partition}`;
}

/** Durable consumer of a group's redrive queue on the dead-letter stream. @private */
export function redriveConsumerName(group: string): string {
  return `chronicle_${group}_redrive`;
}

/** KV key prefix of a group's entries. @private */
export function groupKeyPrefix(stream: string, group: string): string {
  return `${stream}.${group}`;
}

/** KV key of one member's heartbeat. @private */
export function memberKey(stream: string, group: string, memberId: string): string {
  return `${stream}.${group}.m.${memberId}`;
}

/** KV key of a group's rewind epoch. @private */
export function epochKey(stream: string, group: string): string {
  return `${stream}.${group}.epoch`;
}

/** Subject of redrive requests for a group: handled by that group only. @private */
export function redriveSubject(stream: string, group: string, eventName: string, token: string): string {
  return `${stream}_dlq.${group}.redrive.${eventName}.${token}`;
}

/** Where a new group starts reading: the beginning, only new events, or a time. */
export type StartPosition = "beginning" | "now" | Date | { sequence: number };

/** Settings of the durable pull consumers of a group. @private */
export interface GroupConsumerSettings {
  ackWaitMs: number;
  maxAckPending: number;
  pinTimeoutMs: number;
}

const ms = (n: number) => Math.round(n * 1_000_000);

/** Consumer configuration of one partition (or of the redrive queue). @private */
export function consumerConfig(
  args: {
    stream: string;
    group: string;
    name: string;
    filter: string;
    partition: number | "redrive";
    start: StartPosition;
    lastSeq: number;
  } & GroupConsumerSettings,
): Partial<ConsumerConfig> {
  const start = args.start;
  const deliver: Partial<ConsumerConfig> =
    start === "beginning"
      ? { deliver_policy: "all" }
      : start === "now"
        ? { deliver_policy: "by_start_sequence", opt_start_seq: args.lastSeq + 1 }
        : start instanceof Date
          ? { deliver_policy: "by_start_time", opt_start_time: start.toISOString() }
          : { deliver_policy: "by_start_sequence", opt_start_seq: Math.max(1, start.sequence) };
  return {
    durable_name: args.name,
    name: args.name,
    filter_subject: args.filter,
    ack_policy: "explicit",
    ack_wait: ms(args.ackWaitMs),
    max_ack_pending: args.maxAckPending,
    max_deliver: -1,
    ...deliver,
    priority_groups: [PIN_GROUP],
    priority_policy: "pinned_client",
    priority_timeout: ms(args.pinTimeoutMs),
    metadata: {
      [Meta.Group]: args.group,
      [Meta.Partition]: String(args.partition),
      [Meta.Stream]: args.stream,
      [Meta.Kind]: args.partition === "redrive" ? "redrive" : "partition",
    },
  } as Partial<ConsumerConfig>;
}
