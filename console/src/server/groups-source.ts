// The one module of the console that reads consumer groups and dead
// letters. Everything goes through @chronicle/runtime's public admin
// functions (listGroups, describeGroup, rewindGroup, listDeadLetters,
// getDeadLetter, redriveDeadLetter, purgeDeadLetters, lag); the groups' KV
// bucket and their consumers are never read here or anywhere else in the
// console, so a change of how groups keep their state stays inside the
// runtime and, at most, this file.
import {
  describeGroup,
  getDeadLetter,
  layout,
  lag,
  listDeadLetters,
  listGroups,
  purgeDeadLetters,
  redriveDeadLetter,
  rewindGroup,
  type ChronicleConnection,
  type DeadLetter,
  type GroupSummary,
  type MemberCounts,
  type RewindTarget,
} from "@chronicle/runtime";

/** A member of a group as the console shows it. */
export interface MemberView {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  heartbeatAgeMs: number;
  live: boolean;
  partitions: number[];
  /** The member's counters since it started, as of its last heartbeat; undefined when its runtime does not report them. */
  counts: MemberCounts | undefined;
}

/** A partition of a group: its owner, its lag, and whatever else the runtime reports about its position. */
export interface PartitionView {
  partition: number;
  owner: string;
  lag: number;
  /** Position fields by name (delivered, ack floor...), as strings; which exist depends on the runtime. */
  details: Record<string, string>;
}

/** A group at one moment. */
export interface GroupView {
  stream: string;
  group: string;
  epoch: number;
  members: MemberView[];
  partitions: PartitionView[];
  lag: number;
}

/** A cheap reading of a stream's dead-letter stream: its size, and a version that changes with every write or delete. */
export interface DeadLetterStamp {
  messages: number;
  lastSequence: number;
}

/** Everything the console reads or does to groups and dead letters. */
export interface GroupsSource {
  list(stream?: string): Promise<GroupSummary[]>;
  describe(stream: string, group: string): Promise<GroupView>;
  /** Lag of one group, in all and per partition: cheaper than {@link GroupsSource.describe} (no members). */
  lag(stream: string, group: string): Promise<{ lag: number; partitions: Record<number, number> }>;
  rewind(stream: string, group: string, to: RewindTarget): Promise<{ epoch: number; partitions: number }>;
  deadLetters(stream: string, options?: { group?: string; limit?: number }): Promise<DeadLetter[]>;
  deadLetter(stream: string, dlqSequence: number): Promise<DeadLetter>;
  redrive(stream: string, dlqSequence: number): Promise<number>;
  purge(stream: string, group?: string): Promise<number>;
  /** Size and version of `<stream>_dlq`; undefined when the stream has none. */
  deadLetterStamp(stream: string): Promise<DeadLetterStamp | undefined>;
  /** Dead letters of one group waiting in `<stream>_dlq` (redrive requests not counted). */
  deadLetterCount(stream: string, group: string): Promise<number>;
}

/** Position fields of a partition other than the ones the console shows by name. */
const SHOWN = new Set(["partition", "owner", "lag"]);

/** The {@link GroupsSource} over a NATS connection. */
export function createGroupsSource(conn: ChronicleConnection): GroupsSource {
  return {
    list: (stream) => listGroups(conn, stream),
    async describe(stream, group) {
      const d = await describeGroup(conn, stream, group);
      const owned = new Map<string, number[]>();
      for (const p of d.partitions) if (p.owner) owned.set(p.owner, [...(owned.get(p.owner) ?? []), p.partition]);
      return {
        stream: d.stream,
        group: d.group,
        epoch: d.epoch,
        lag: d.lag,
        members: d.members.map((m) => ({
          id: m.id,
          host: m.host,
          pid: m.pid,
          startedAt: m.startedAt,
          heartbeatAgeMs: m.heartbeatAgeMs,
          live: m.live,
          partitions: owned.get(m.id) ?? [],
          counts: m.counts,
        })),
        partitions: d.partitions.map((p) => ({
          partition: p.partition,
          owner: p.owner ?? "",
          lag: p.lag,
          details: Object.fromEntries(
            Object.entries(p)
              .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
              .map(([k, v]) => [k, String(v)]),
          ),
        })),
      };
    },
    async lag(stream, group) {
      const [g] = await lag(conn, stream, group);
      return g ? { lag: g.lag, partitions: g.partitions } : { lag: 0, partitions: {} };
    },
    rewind: (stream, group, to) => rewindGroup(conn, stream, group, { to }),
    deadLetters: (stream, options = {}) => listDeadLetters(conn, stream, options),
    deadLetter: (stream, seq) => getDeadLetter(conn, stream, seq),
    redrive: (stream, seq) => redriveDeadLetter(conn, stream, seq),
    purge: (stream, group) => purgeDeadLetters(conn, stream, group ? { group } : {}),
    async deadLetterStamp(stream) {
      try {
        const info = await conn.jsm.streams.info(layout.dlqStream(stream));
        return { messages: info.state.messages, lastSequence: info.state.last_seq };
      } catch {
        return undefined;
      }
    },
    async deadLetterCount(stream, group) {
      const dlq = layout.dlqStream(stream);
      // per-subject counts of the group's part of the dead-letter stream:
      // `<dlq>.<group>.<partition>.<Event>.<key>` are dead letters, `<dlq>.<group>.redrive.>` redrive requests
      let info;
      try {
        info = await conn.jsm.streams.info(dlq, { subjects_filter: `${dlq}.${group}.>` });
      } catch {
        return 0;
      }
      let n = 0;
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        const partition = subject.split(".")[2] ?? "";
        if (/^\d+$/.test(partition)) n += count;
      }
      return n;
    },
  };
}
