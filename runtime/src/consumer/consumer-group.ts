import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { ChronicleConnection } from "../connection.js";
import type { EventSchemas, StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { translateNatsError } from "../nats-error.js";
import { assignSlots } from "../groups/assignment.js";
import { Membership, openGroupsBucket } from "../groups/membership.js";
import {
  PIN_GROUP,
  checkGroupName,
  pinnedClient,
  consumerConfig,
  epochKey,
  partitionConsumerName,
  redriveConsumerName,
  type StartPosition,
} from "../groups/names.js";
import { createKvIdempotencyStore } from "../idempotency/kv-store.js";
import { storeOps } from "../idempotency/store-ops.js";
import type { IdempotencyStore } from "../idempotency/types.js";
import { layout } from "../layout/subjects.js";
import { ConsumerMetrics, type ConsumerMetricsSnapshot, type MeterLike } from "../metrics/consumer-metrics.js";
import type { MemberRuntime } from "./delivery.js";
import { PartitionWorker, Semaphore } from "./partition-worker.js";
import { RecentRecords } from "./recent-records.js";
import { AckBatch } from "./ack-batch.js";
import { resolveRetryPolicy, type RetryPolicy } from "./retry.js";
import type { EventContext, ExhaustiveHandlers, PartialHandlers } from "./types.js";

/** Options of {@link startConsumerGroup}. */
export interface ConsumerGroupOptions<E extends EventSchemas> {
  /** Group name, 1-48 of `[A-Za-z0-9_-]`. Members with the same name share the partitions. */
  group: string;
  /** Handlers per event type. */
  handlers: ExhaustiveHandlers<E> | PartialHandlers<E>;
  /** Idempotency store; default a KV store (`chronicle_idem_<stream>`, 7-day TTL). */
  store?: IdempotencyStore;
  /** Retry policy; defaults in {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy>;
  /** Where a new group starts; default the beginning of the stream. Ignored once the group exists. */
  startAt?: StartPosition;
  /** Handlers running at once in this member, over all its partitions; default 64. */
  maxConcurrency?: number;
  /**
   * Events taken for handling whose idempotency record is not yet confirmed, over all the member's
   * partitions: handlers running plus handled events whose record is on its way to the store. The
   * most a crash of the member can make run twice; default 1024. Records are pipelined: a window
   * much smaller than the events handled per store round trip limits throughput.
   */
  maxUnrecorded?: number;
  /** Unacknowledged events per partition (the consumers' `max_ack_pending`); default 512. */
  maxAckPending?: number;
  /** Ack wait of the consumers; default 30 s. Long handlers are kept alive with progress acks. */
  ackWaitMs?: number;
  /**
   * Bound on the time from a member's crash to its partitions flowing on
   * another member; default 10 s. The session timeout is half of it, the
   * heartbeat a tenth.
   */
  failoverMs?: number;
  /** Member id; default `<host>-<pid>-<random>`. */
  memberId?: string;
  /** OpenTelemetry meter (`metrics.getMeter(...)` of `@opentelemetry/api`); without one, metrics are only in `metrics()`. */
  meter?: MeterLike;
  /** Called with handler failures and background errors; default prints to stderr. */
  onError?: (err: unknown, ctx: Partial<EventContext>) => void;
  /** Called after the member's partitions changed. */
  onAssignment?: (partitions: number[]) => void;
}

/** A running member of a consumer group. `await using` stops it. */
export interface ConsumerGroupMember extends AsyncDisposable {
  readonly id: string;
  readonly group: string;
  readonly stream: string;
  /** Partitions this member owns now (the redrive queue not included). */
  partitions(): number[];
  /** Live members as this member sees them, sorted. */
  members(): string[];
  /** Counters, latency and lag. */
  metrics(): ConsumerMetricsSnapshot;
  /** Stops pulling, finishes and acks in-flight events, hands the partitions over and leaves the group. */
  stop(): Promise<void>;
}

async function ensureConsumers(
  conn: ChronicleConnection,
  stream: string,
  group: string,
  partitions: number,
  start: StartPosition,
  s: Settings,
): Promise<boolean> {
  const info = await conn.jsm.streams.info(stream).catch((err: unknown) => {
    const e = translateNatsError(err, `cannot read stream ${stream}`, { stream, group });
    // Only a stream the server says it does not have is "provision it first"; a timeout (an
    // election on a cluster), no responders or a permission error keep their own code.
    if (e.code === ErrorCode.NotFound) {
      throw new ChronicleError(ErrorCode.NotFound, `stream ${stream} does not exist: provision it first`, { cause: err, context: { stream, group } });
    }
    throw e;
  });
  const lastSeq = info.state.last_seq;
  const settings = { ackWaitMs: s.ackWaitMs, maxAckPending: s.maxAckPending, pinTimeoutMs: s.pinTimeoutMs };
  await Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
      const name = partitionConsumerName(group, p);
      const exists = await conn.jsm.consumers.info(stream, name).then(
        () => true,
        () => false,
      );
      if (exists) return;
      await conn.jsm.consumers.add(
        stream,
        consumerConfig({ stream, group, name, filter: layout.partitionFilter(stream, p), partition: p, start, lastSeq, ...settings }),
      );
    }),
  );
  const dlq = layout.dlqStream(stream);
  const hasDlq = await conn.jsm.streams.info(dlq).then(
    () => true,
    () => false,
  );
  if (hasDlq) {
    const name = redriveConsumerName(group);
    const exists = await conn.jsm.consumers.info(dlq, name).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await conn.jsm.consumers.add(
        dlq,
        consumerConfig({ stream, group, name, filter: `${dlq}.${group}.redrive.>`, partition: "redrive", start: "beginning", lastSeq: 0, ...settings }),
      );
    }
  }
  return hasDlq;
}

interface Settings {
  ackWaitMs: number;
  maxAckPending: number;
  pinTimeoutMs: number;
  heartbeatMs: number;
  sessionTimeoutMs: number;
}

/**
 * Joins (creating when needed, with no admin step) the consumer group
 * `options.group` of a stream and starts handling events.
 *
 * The stream's partitions are spread evenly over the live members and move
 * when a member joins, leaves or dies (within `failoverMs`, default 10 s).
 * One member at a time reads a partition, through a durable pull consumer
 * per (group, partition) pinned to it; events of one key are handled in
 * stream order, partitions and keys concurrently. Each event runs through
 * the idempotency store, retries with delayed naks and goes to the
 * dead-letter stream when it cannot be handled. See docs/consumer-groups.md.
 *
 * Throws `not_found` when the stream does not exist, `invalid_argument` for
 * bad options, and the translated NATS error otherwise: `timeout` when the
 * JetStream API does not answer (as during an election on a cluster: try
 * again), `permission_denied` when the user may not read the stream.
 */
export async function startConsumerGroup<E extends EventSchemas>(
  conn: ChronicleConnection,
  definition: StreamDefinition<E>,
  options: ConsumerGroupOptions<E>,
): Promise<ConsumerGroupMember> {
  const stream = definition.settings.name;
  const group = options.group;
  checkGroupName(group);
  const failoverMs = options.failoverMs ?? 10_000;
  if (!(failoverMs >= 1000))
    throw new ChronicleError(ErrorCode.InvalidArgument, `failoverMs must be at least 1000, got ${failoverMs}`, { context: { option: "failoverMs" } });
  // A bound of 0 (or a fraction) would let no event start, and the member would wait forever in silence.
  for (const option of ["maxConcurrency", "maxUnrecorded"] as const) {
    const v = options[option];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new ChronicleError(ErrorCode.InvalidArgument, `${option} must be a whole number of at least 1, got ${v}`, { context: { option } });
  }
  const s: Settings = {
    ackWaitMs: options.ackWaitMs ?? 30_000,
    maxAckPending: options.maxAckPending ?? 512,
    sessionTimeoutMs: Math.floor(failoverMs / 2),
    heartbeatMs: Math.max(100, Math.floor(failoverMs / 10)),
    pinTimeoutMs: Math.floor(failoverMs / 2),
  };
  const retry = resolveRetryPolicy(options.retry);
  const hasDlq = await ensureConsumers(conn, stream, group, definition.settings.partitions, options.startAt ?? "beginning", s);
  const kv = await openGroupsBucket(conn, definition.settings.replicas);
  const epochEntry = await kv.get(epochKey(stream, group)).catch(() => null);
  const epoch = epochEntry && epochEntry.operation === "PUT" ? Number(epochEntry.string()) || 0 : 0;
  const ownStore = options.store ? undefined : await createKvIdempotencyStore(conn, { stream, replicas: definition.settings.replicas });
  const store = options.store ?? ownStore!;
  const abort = new AbortController();
  const rt: MemberRuntime = {
    conn,
    definition: definition as unknown as StreamDefinition,
    stream,
    group,
    handlers: options.handlers as MemberRuntime["handlers"],
    store: storeOps(store),
    epoch,
    retry,
    metrics: new ConsumerMetrics(stream, group, options.meter),
    signal: abort.signal,
    firstFailures: new Map(),
    recent: new RecentRecords(),
    acks: new AckBatch(conn.nc),
    onError:
      options.onError ??
      ((err, ctx) => {
        console.error(`chronicle: ${stream}/${group}${ctx.sequence !== undefined ? ` #${ctx.sequence}` : ""}: ${(err as Error)?.message ?? String(err)}`);
      }),
  };
  const memberId = (options.memberId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`).replace(/[^A-Za-z0-9_-]/g, "_");
  const partitions = definition.settings.partitions;
  const slots = partitions + (hasDlq ? 1 : 0);
  const permits = { handlers: new Semaphore(options.maxConcurrency ?? 64), unrecorded: new Semaphore(options.maxUnrecorded ?? 1024) };
  const workers = new Map<number, PartitionWorker>();
  /**
   * Slots this member holds or is taking: set when an acquire is queued, cleared when a release
   * is. An acquire starts its worker only after the handover awaits, so `workers` lags the
   * assignment; a view change in between must still release what the acquire is about to take.
   */
  const owned = new Set<number>();
  const chains = new Map<number, Promise<void>>();
  let previous: string[] = [];
  let stopped = false;

  const slotConsumer = (slot: number) =>
    slot < partitions
      ? { streamName: stream, consumerName: partitionConsumerName(group, slot) }
      : { streamName: layout.dlqStream(stream), consumerName: redriveConsumerName(group) };

  /**
   * Redelivers what the previous owner left unacknowledged, in order, and frees the pin. A member
   * handing over its own partition (`ownPins`: the pin ids its worker was given) leaves the pin
   * alone when the server has pinned a client it does not know while it knows its own: during a
   * quick run of view changes the next owner may hold the pin already, and an unpin would cut its
   * pull short. A worker that saw no pin at all frees whatever is pinned: its last pull may have
   * been pinned after it stopped, and nobody would read that pin's messages. The next owner's
   * PinWatch frees a pin left stale all the same.
   */
  const handOver = async (slot: number, ownPins?: ReadonlySet<string>) => {
    const { streamName, consumerName } = slotConsumer(slot);
    if (conn.nc.isClosed()) return; // nothing to hand over on; the next owner's handover resets the consumer
    try {
      const info = await conn.jsm.consumers.info(streamName, consumerName);
      if (info.num_ack_pending > 0) await conn.jsm.consumers.reset(streamName, consumerName).catch(() => undefined);
      const pinned = pinnedClient(info);
      if (ownPins && ownPins.size > 0 && pinned !== undefined && !ownPins.has(pinned)) return;
      await conn.jsm.consumers.unpin(streamName, consumerName, PIN_GROUP).catch(() => undefined);
    } catch (err) {
      rt.onError(err, { stream: streamName });
    }
  };

  const enqueue = (slot: number, job: () => Promise<void>) => {
    const next = (chains.get(slot) ?? Promise.resolve()).then(job, job);
    chains.set(slot, next);
    return next;
  };

  const acquire = (slot: number, previousOwnerLive: boolean) =>
    enqueue(slot, async () => {
      if (stopped || workers.has(slot) || !owned.has(slot)) return;
      // A live previous owner hands over itself when it lets go; a dead one cannot.
      if (!previousOwnerLive) await handOver(slot);
      const { streamName, consumerName } = slotConsumer(slot);
      const w = new PartitionWorker(rt, permits, {
        streamName,
        consumerName,
        slot,
        redrive: slot >= partitions,
        maxMessages: Math.min(256, s.maxAckPending),
        expiresMs: Math.max(1000, Math.min(30_000, Math.floor(s.pinTimeoutMs / 2))),
        ackWaitMs: s.ackWaitMs,
      });
      workers.set(slot, w);
      w.start();
    });

  const release = (slot: number) =>
    enqueue(slot, async () => {
      const w = workers.get(slot);
      if (!w) return;
      workers.delete(slot);
      rt.metrics.lag.delete(slot);
      await w.stop();
      await handOver(slot, w.pins.pinIds);
    });

  const onMembers = (live: string[]) => {
    if (stopped) return;
    const next = assignSlots(slots, live);
    // On the first view, the owners before this member joined are the other live members.
    if (previous.length === 0)
      previous = assignSlots(
        slots,
        live.filter((id) => id !== memberId),
      );
    for (let slot = 0; slot < slots; slot++) {
      const mineNow = next[slot] === memberId;
      const mineBefore = owned.has(slot);
      if (mineBefore && !mineNow) {
        owned.delete(slot);
        void release(slot);
      } else if (mineNow && !mineBefore) {
        owned.add(slot);
        const prevOwner = previous[slot];
        void acquire(slot, prevOwner !== undefined && prevOwner !== memberId && live.includes(prevOwner));
      }
    }
    previous = next;
    options.onAssignment?.(ownedPartitions(next));
  };
  const ownedPartitions = (owners: string[]) => owners.flatMap((o, slot) => (o === memberId && slot < partitions ? [slot] : []));

  const info = { id: memberId, host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), sessionTimeoutMs: s.sessionTimeoutMs };
  const membership = new Membership(kv, stream, group, info, s.heartbeatMs, s.sessionTimeoutMs, onMembers);
  await membership.join();
  // A connection closed under a running member cannot come back: say so once (the partition
  // workers stop retrying on a closed connection rather than report it every half second).
  void conn.nc.closed().then(() => {
    if (stopped) return;
    rt.onError(
      new ChronicleError(
        ErrorCode.Closed,
        `the NATS connection of member ${memberId} of ${stream}/${group} was closed while it ran: it reads nothing more; stop() it and start a member on an open connection`,
        { context: { stream, group } },
      ),
      { stream },
    );
  });

  const member: ConsumerGroupMember = {
    id: memberId,
    group,
    stream,
    partitions: () => [...workers.keys()].filter((p) => p < partitions).sort((a, b) => a - b),
    members: () => membership.members(),
    metrics: () => rt.metrics.snapshot(),
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort(new ChronicleError(ErrorCode.Closed, `consumer group member ${memberId} is stopping`));
      await Promise.all([...workers.keys()].map((slot) => releaseNow(slot)));
      await Promise.all(chains.values());
      await membership.leave();
      await ownStore?.close?.();
    },
    async [Symbol.asyncDispose]() {
      await member.stop();
    },
  };
  const releaseNow = async (slot: number) => {
    const w = workers.get(slot);
    if (!w) return;
    workers.delete(slot);
    await w.stop();
    await handOver(slot);
  };
  return member;
}
