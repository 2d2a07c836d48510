import type { ConsumerInfo } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { layout } from "../layout/subjects.js";
import { assignSlots } from "./assignment.js";
import {
  GROUPS_BUCKET,
  Meta,
  checkGroupName,
  consumerConfig,
  epochKey,
  groupKeyPrefix,
  partitionConsumerName,
  pinnedClient,
  type StartPosition,
} from "./names.js";
import { Kvm } from "@nats-io/kv";
import type { MemberInfo } from "./membership.js";

/** One consumer group of a stream, as {@link listGroups} reports it. */
export interface GroupSummary {
  stream: string;
  group: string;
  partitions: number;
  /** Events not yet acknowledged by the group, over all partitions. */
  lag: number;
}

/** Position and lag of one partition of a group. */
export interface PartitionPosition {
  partition: number;
  /** Member that owns it by the current assignment, if any member is live. */
  owner: string | undefined;
  /** True when the server has pinned a client to the partition's consumer. */
  pinned: boolean;
  /** Last stream sequence delivered. */
  delivered: number;
  /** Stream sequence below which everything is acknowledged. */
  ackFloor: number;
  /** Not yet delivered. */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
  /** `pending + ackPending`. */
  lag: number;
}

/** A live (or recently seen) member of a group. */
export interface GroupMemberInfo extends MemberInfo {
  /** Age of its last heartbeat in ms. */
  heartbeatAgeMs: number;
  live: boolean;
}

/** What {@link describeGroup} reports. */
export interface GroupDescription {
  stream: string;
  group: string;
  /** Rewind epoch: the idempotency records of earlier epochs are ignored. */
  epoch: number;
  members: GroupMemberInfo[];
  partitions: PartitionPosition[];
  lag: number;
}

function partitionOfConsumer(ci: ConsumerInfo): number | undefined {
  const p = ci.config.metadata?.[Meta.Partition];
  return p !== undefined && /^\d+$/.test(p) ? Number(p) : undefined;
}

async function groupConsumers(conn: ChronicleConnection, stream: string): Promise<ConsumerInfo[]> {
  const out: ConsumerInfo[] = [];
  for await (const ci of conn.jsm.consumers.list(stream)) if (ci.config.metadata?.[Meta.Group] && partitionOfConsumer(ci) !== undefined) out.push(ci);
  return out;
}

const lagOf = (ci: ConsumerInfo) => ci.num_pending + ci.num_ack_pending;

/**
 * Lists the consumer groups of one stream, or of every stream when `stream`
 * is left out, with their total lag. A group exists once a member started.
 */
export async function listGroups(conn: ChronicleConnection, stream?: string): Promise<GroupSummary[]> {
  const streams: string[] = [];
  if (stream) streams.push(stream);
  else for await (const name of conn.jsm.streams.names()) if (!name.startsWith("KV_") && !name.endsWith("_dlq")) streams.push(name);
  const out: GroupSummary[] = [];
  for (const s of streams) {
    const byGroup = new Map<string, ConsumerInfo[]>();
    for (const ci of await groupConsumers(conn, s)) {
      const g = ci.config.metadata![Meta.Group]!;
      byGroup.set(g, [...(byGroup.get(g) ?? []), ci]);
    }
    for (const [group, cis] of byGroup) out.push({ stream: s, group, partitions: cis.length, lag: cis.reduce((a, ci) => a + lagOf(ci), 0) });
  }
  return out.sort((a, b) => (a.stream + a.group < b.stream + b.group ? -1 : 1));
}

async function readMembers(conn: ChronicleConnection, stream: string, group: string): Promise<{ members: GroupMemberInfo[]; epoch: number }> {
  let kv;
  try {
    kv = await new Kvm(conn.js).open(GROUPS_BUCKET);
    await kv.status();
  } catch {
    return { members: [], epoch: 0 };
  }
  const prefix = groupKeyPrefix(stream, group);
  const members: GroupMemberInfo[] = [];
  for await (const key of await kv.keys(`${prefix}.m.>`)) {
    const e = await kv.get(key);
    if (!e || e.operation !== "PUT") continue;
    const info = e.json<MemberInfo>();
    const age = Math.max(0, Date.now() - e.created.getTime());
    members.push({ ...info, heartbeatAgeMs: age, live: age <= (info.sessionTimeoutMs ?? 5000) });
  }
  const ep = await kv.get(epochKey(stream, group));
  return { members: members.sort((a, b) => (a.id < b.id ? -1 : 1)), epoch: ep && ep.operation === "PUT" ? Number(ep.string()) || 0 : 0 };
}

/**
 * Describes a group: its members (live or recently seen), the assignment
 * of partitions to live members, and each partition's position and lag.
 * Throws `not_found` when the group has no consumers on the stream.
 */
export async function describeGroup(conn: ChronicleConnection, stream: string, group: string): Promise<GroupDescription> {
  checkGroupName(group);
  const cis = (await groupConsumers(conn, stream).catch(() => [])).filter((ci) => ci.config.metadata?.[Meta.Group] === group);
  if (cis.length === 0) throw new ChronicleError(ErrorCode.NotFound, `stream ${stream} has no consumer group ${group}`, { context: { stream, group } });
  const { members, epoch } = await readMembers(conn, stream, group);
  const hasRedrive = await conn.jsm.streams.info(layout.dlqStream(stream)).then(
    () => 1,
    () => 0,
  );
  const owners = assignSlots(
    cis.length + hasRedrive,
    members.filter((m) => m.live).map((m) => m.id),
  );
  const partitions = cis
    .map((ci): PartitionPosition => {
      const p = partitionOfConsumer(ci)!;
      const pinned = pinnedClient(ci) !== undefined;
      return {
        partition: p,
        owner: owners[p],
        pinned,
        delivered: ci.delivered.stream_seq,
        ackFloor: ci.ack_floor.stream_seq,
        pending: ci.num_pending,
        ackPending: ci.num_ack_pending,
        lag: lagOf(ci),
      };
    })
    .sort((a, b) => a.partition - b.partition);
  return { stream, group, epoch, members, partitions, lag: partitions.reduce((a, p) => a + p.lag, 0) };
}

/** Lag of a group (total and per partition), or of every group of the stream. */
export async function lag(
  conn: ChronicleConnection,
  stream: string,
  group?: string,
): Promise<{ group: string; lag: number; partitions: Record<number, number> }[]> {
  const byGroup = new Map<string, Record<number, number>>();
  for (const ci of await groupConsumers(conn, stream)) {
    const g = ci.config.metadata![Meta.Group]!;
    if (group !== undefined && g !== group) continue;
    const rec = byGroup.get(g) ?? {};
    rec[partitionOfConsumer(ci)!] = lagOf(ci);
    byGroup.set(g, rec);
  }
  return [...byGroup].map(([g, partitions]) => ({ group: g, lag: Object.values(partitions).reduce((a, b) => a + b, 0), partitions }));
}

/** Where {@link rewindGroup} moves a group: the start, a stream sequence, or a time. */
export type RewindTarget = "start" | number | Date;

/**
 * Moves every partition of a group back (or forward) to `to`: the next
 * events it handles are those stored from that point on, and they are
 * handled again even if they were handled before (the group's rewind
 * epoch changes, so earlier idempotency records no longer apply).
 *
 * Refused with `failed_precondition` while members are live: a running
 * member holds events in flight and would ack them into the new position.
 * Stop the members (or wait for their session timeout after a crash), then
 * rewind and start them again.
 */
export async function rewindGroup(
  conn: ChronicleConnection,
  stream: string,
  group: string,
  options: { to: RewindTarget },
): Promise<{ epoch: number; partitions: number }> {
  const d = await describeGroup(conn, stream, group);
  const live = d.members.filter((m) => m.live);
  if (live.length > 0) {
    throw new ChronicleError(
      ErrorCode.FailedPrecondition,
      `cannot rewind ${stream}/${group}: ${live.length} member(s) are running (${live.map((m) => `${m.id} on ${m.host} pid ${m.pid}`).join(", ")}); stop them first, then rewind and start them again`,
      { context: { stream, group } },
    );
  }
  const to = options.to;
  const start: StartPosition = to === "start" ? "beginning" : to instanceof Date ? to : { sequence: to };
  for (const ci of (await groupConsumers(conn, stream)).filter((c) => c.config.metadata?.[Meta.Group] === group)) {
    const p = partitionOfConsumer(ci)!;
    const name = partitionConsumerName(group, p);
    await conn.jsm.consumers.delete(stream, name);
    await conn.jsm.consumers.add(
      stream,
      consumerConfig({
        stream,
        group,
        name,
        filter: layout.partitionFilter(stream, p),
        partition: p,
        start,
        lastSeq: 0,
        ackWaitMs: (ci.config.ack_wait ?? 30_000_000_000) / 1_000_000,
        maxAckPending: ci.config.max_ack_pending ?? 512,
        pinTimeoutMs: ((ci.config as { priority_timeout?: number }).priority_timeout ?? 5_000_000_000) / 1_000_000,
      }),
    );
  }
  const kv = await new Kvm(conn.js).open(GROUPS_BUCKET);
  const epoch = d.epoch + 1;
  await kv.put(epochKey(stream, group), String(epoch));
  return { epoch, partitions: d.partitions.length };
}
