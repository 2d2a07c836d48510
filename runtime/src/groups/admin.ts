import type { ConsumerInfo } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { translateNatsError } from "../nats-error.js";
import type { MemberInfo } from "./membership.js";
import { GROUPS_BUCKET, checkGroupName, groupKeyPrefix, slotSource, stateNames } from "./names.js";
import { StateLog } from "./state-log.js";
import { decodeGroupRecord, decodeSlotRecord, isHeld, type GroupRecord } from "./state-records.js";
import { countAfter, floorAtTime } from "./stream-position.js";

/** One consumer group of a stream, as {@link listGroups} reports it. */
export interface GroupSummary {
  stream: string;
  group: string;
  partitions: number;
  /** Events not yet handled by the group, over all partitions. */
  lag: number;
}

/** Position and lag of one partition of a group. */
export interface PartitionPosition {
  partition: number;
  /** Member that owns the partition, from the partition's last record; undefined when it was released or never claimed. */
  owner: string | undefined;
  /** Every event of the partition at or below this stream sequence is settled (handled, skipped or dead-lettered). */
  floor: number;
  /** Events the owner held (delivered, not yet settled) at its last write, at most a heartbeat ago. */
  inFlight: number;
  /** Events not yet delivered: after what the owner's consumer delivered, or after the floor when no consumer reads. */
  pending: number;
  /** `pending + inFlight`: the events of the partition the group has not settled. */
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
  /** Rewind epoch: part of the keys a user-supplied idempotency store sees, so records of earlier epochs no longer apply. */
  epoch: number;
  members: GroupMemberInfo[];
  partitions: PartitionPosition[];
  lag: number;
}

/** The partition count of a Chronicle stream, from its subject transform (`{{partition(N,2)}}`). */
async function partitionCount(conn: ChronicleConnection, stream: string): Promise<number> {
  const info = await conn.jsm.streams.info(stream).catch((err: unknown) => {
    throw translateNatsError(err, `cannot read stream ${stream}`, { stream });
  });
  const dest = (info.config as { subject_transform?: { dest?: string } }).subject_transform?.dest ?? "";
  const m = /\{\{\s*partition\((\d+)/.exec(dest);
  return m ? Number(m[1]) : 1;
}

/** Names of the groups of `stream` (those that have a group record), sorted; empty when no group ever started. */
async function groupNames(conn: ChronicleConnection, stream: string): Promise<string[]> {
  const name = stateNames.stream(stream);
  const info = await conn.jsm.streams.info(name, { subjects_filter: `${name}.*.group` } as never).catch(() => undefined);
  const subjects = Object.keys((info?.state as { subjects?: Record<string, number> } | undefined)?.subjects ?? {});
  return subjects.map((s) => s.split(".")[1]!).sort();
}

async function groupRecordOf(conn: ChronicleConnection, stream: string, group: string): Promise<GroupRecord | undefined> {
  const log = new StateLog(conn, stream);
  return (await log.head(stateNames.group(stream, group), decodeGroupRecord).catch(() => ({ seq: 0, record: undefined }))).record;
}

/** The consumers of `stream` by name, in one listing. */
async function consumersOf(conn: ChronicleConnection, stream: string): Promise<Map<string, ConsumerInfo>> {
  const out = new Map<string, ConsumerInfo>();
  for await (const ci of conn.jsm.consumers.list(stream)) out.set(ci.name, ci);
  return out;
}

/**
 * Position and lag of each partition of a group: the partitions' last
 * records in one batched read, the owners' consumers in one listing, and,
 * only for a partition no consumer reads, a count of what lies after its
 * floor.
 */
async function partitionPositions(
  conn: ChronicleConnection,
  stream: string,
  group: string,
  groupFloor: number,
  consumers?: Map<string, ConsumerInfo>,
): Promise<PartitionPosition[]> {
  const log = new StateLog(conn, stream);
  const count = await partitionCount(conn, stream);
  const subjects = Array.from({ length: count }, (_, p) => stateNames.slot(stream, group, p));
  const [heads, byName] = await Promise.all([
    log.heads(`${stateNames.stream(stream)}.${group}.*`, subjects, decodeSlotRecord),
    consumers ? Promise.resolve(consumers) : consumersOf(conn, stream),
  ]);
  return Promise.all(
    subjects.map(async (subject, p): Promise<PartitionPosition> => {
      const r = heads.get(subject)?.record;
      const floor = r?.floor ?? groupFloor;
      const reading = isHeld(r) ? byName.get(r.consumer) : undefined;
      if (isHeld(r) && reading)
        return { partition: p, owner: r.member, floor, inFlight: r.held, pending: reading.num_pending, lag: reading.num_pending + r.held };
      // nobody reads the partition: everything after the floor waits (what a dead owner held included)
      const source = slotSource(stream, group, p);
      const pending = await countAfter(conn, source.stream, source.filter, floor);
      return { partition: p, owner: isHeld(r) ? r.member : undefined, floor, inFlight: 0, pending, lag: pending };
    }),
  );
}

/**
 * Lists the consumer groups of one stream, or of every stream when `stream`
 * is left out, with their total lag. A group exists once a member started,
 * and goes on existing while no member runs.
 */
export async function listGroups(conn: ChronicleConnection, stream?: string): Promise<GroupSummary[]> {
  const streams: string[] = [];
  if (stream) streams.push(stream);
  else
    for await (const name of conn.jsm.streams.names())
      if (!name.startsWith("KV_") && !name.endsWith("_dlq") && !name.startsWith("chronicle_state_")) streams.push(name);
  const out: GroupSummary[] = [];
  for (const s of streams) {
    const groups = await groupNames(conn, s);
    const consumers = groups.length > 0 ? await consumersOf(conn, s) : undefined;
    for (const group of groups) {
      const record = await groupRecordOf(conn, s, group);
      const positions = await partitionPositions(conn, s, group, record?.floor ?? 0, consumers);
      out.push({ stream: s, group, partitions: positions.length, lag: positions.reduce((a, p) => a + p.lag, 0) });
    }
  }
  return out.sort((a, b) => (a.stream + a.group < b.stream + b.group ? -1 : 1));
}

async function readMembers(conn: ChronicleConnection, stream: string, group: string): Promise<GroupMemberInfo[]> {
  let kv;
  try {
    kv = await new Kvm(conn.js).open(GROUPS_BUCKET);
    await kv.status();
  } catch {
    return [];
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
  return members.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Describes a group: its members (live or recently seen), and each
 * partition's owner, floor and lag. Throws `not_found` when no member of
 * the group ever started on the stream.
 */
export async function describeGroup(conn: ChronicleConnection, stream: string, group: string): Promise<GroupDescription> {
  checkGroupName(group);
  const record = await groupRecordOf(conn, stream, group);
  if (!record) throw new ChronicleError(ErrorCode.NotFound, `stream ${stream} has no consumer group ${group}`, { context: { stream, group } });
  const [members, partitions] = await Promise.all([readMembers(conn, stream, group), partitionPositions(conn, stream, group, record.floor)]);
  return { stream, group, epoch: record.epoch, members, partitions, lag: partitions.reduce((a, p) => a + p.lag, 0) };
}

/** Lag of a group (total and per partition), or of every group of the stream. */
export async function lag(
  conn: ChronicleConnection,
  stream: string,
  group?: string,
): Promise<{ group: string; lag: number; partitions: Record<number, number> }[]> {
  const out: { group: string; lag: number; partitions: Record<number, number> }[] = [];
  const groups = group !== undefined ? [group] : await groupNames(conn, stream);
  const consumers = groups.length > 0 ? await consumersOf(conn, stream) : undefined;
  for (const g of groups) {
    const record = await groupRecordOf(conn, stream, g);
    if (!record) continue;
    const positions = await partitionPositions(conn, stream, g, record.floor, consumers);
    out.push({ group: g, lag: positions.reduce((a, p) => a + p.lag, 0), partitions: Object.fromEntries(positions.map((p) => [p.partition, p.lag])) });
  }
  return out;
}

/** Where {@link rewindGroup} moves a group: the start, a stream sequence, or a time. */
export type RewindTarget = "start" | number | Date;

/**
 * Moves every partition of a group back (or forward) to `to`: the next
 * events it handles are those stored from that point on, and they are
 * handled again even if they were handled before (each partition forgets
 * its handled keys, and the group's epoch changes, so the records of a
 * user-supplied store no longer apply either).
 *
 * Refused with `failed_precondition` while members are live: a running
 * member owns partitions and would write its position over the rewind.
 * Stop the members (or wait for their session timeout after a crash), then
 * rewind and start them again.
 */
export async function rewindGroup(
  conn: ChronicleConnection,
  stream: string,
  group: string,
  options: { to: RewindTarget },
): Promise<{ epoch: number; partitions: number }> {
  const described = await describeGroup(conn, stream, group);
  const live = described.members.filter((m) => m.live);
  if (live.length > 0) {
    throw new ChronicleError(
      ErrorCode.FailedPrecondition,
      `cannot rewind ${stream}/${group}: ${live.length} member(s) are running (${live.map((m) => `${m.id} on ${m.host} pid ${m.pid}`).join(", ")}); stop them first, then rewind and start them again`,
      { context: { stream, group } },
    );
  }
  const to = options.to;
  const floor = to === "start" ? 0 : to instanceof Date ? await floorAtTime(conn, stream, to) : Math.max(0, to - 1);
  const log = new StateLog(conn, stream);
  const epoch = described.epoch + 1;
  const record = (await groupRecordOf(conn, stream, group))!;
  for (const p of described.partitions) {
    const subject = stateNames.slot(stream, group, p.partition);
    const head = await log.head(subject, decodeSlotRecord);
    if (isHeld(head.record)) await conn.jsm.consumers.delete(stream, head.record.consumer).catch(() => undefined);
    try {
      await log.write(subject, { kind: "rewind", floor, epoch, at: Date.now() }, head.seq, 10_000);
    } catch (err) {
      throw new ChronicleError(
        ErrorCode.FailedPrecondition,
        `cannot rewind partition ${p.partition} of ${stream}/${group}: a member wrote to it meanwhile (${(err as Error).message}); stop every member and rewind again`,
        { cause: err, context: { stream, group, partition: p.partition } },
      );
    }
  }
  const groupHead = await log.head(stateNames.group(stream, group), decodeGroupRecord);
  await log.write(stateNames.group(stream, group), { ...record, epoch, at: Date.now() }, groupHead.seq, 10_000);
  return { epoch, partitions: described.partitions.length };
}
