import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { ChronicleConnection } from "../connection.js";
import type { EventSchemas, StreamDefinition } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { storeOps } from "../idempotency/store-ops.js";
import { layout } from "../layout/subjects.js";
import { ConsumerMetrics, type ConsumerMetricsSnapshot } from "../metrics/consumer-metrics.js";
import { translateNatsError } from "../nats-error.js";
import { resolveGroupOptions, type ConsumerGroupOptions } from "./group-options.js";
import { ensureGroupRecord, startFloor } from "./group-record.js";
import { Semaphore, TurnBudget, type MemberContext } from "./member-context.js";
import { Membership, openGroupsBucket } from "./membership.js";
import { checkGroupName, groupSlots } from "./names.js";
import { SlotManager } from "./slot-manager.js";
import { StateLog } from "./state-log.js";
import { wireOf } from "../wire/select-wire.js";

/** How long one event-loop turn may run events before timers and I/O get their turn, ms. */
const TURN_BUDGET_MS = 10;

/** A running member of a consumer group. `await using` stops it. */
export interface ConsumerGroupMember extends AsyncDisposable {
  readonly id: string;
  readonly group: string;
  readonly stream: string;
  /** Partitions this member owns now (the redrive queue not included). */
  partitions(): number[];
  /** Live members as this member sees them, sorted. */
  members(): string[];
  /**
   * Resolves with the member's partitions once it owns exactly what its
   * current view of the group assigns it, with no claim or release under
   * way (at once when that holds already). A later join or leave starts a
   * new rebalance: call it again.
   */
  assignmentSettled(): Promise<number[]>;
  /** Counters, latency and lag. */
  metrics(): ConsumerMetricsSnapshot;
  /** Stops reading, lets running handlers finish, stores their results, releases the partitions and leaves the group. */
  stop(): Promise<void>;
}

/** The stream's info, with "does not exist" said as such and every other failure keeping its own code. */
async function streamInfo(conn: ChronicleConnection, stream: string, group: string) {
  return conn.jsm.streams.info(stream).catch((err: unknown) => {
    const e = translateNatsError(err, `cannot read stream ${stream}`, { stream, group });
    // only a stream the server says it does not have is "provision it first"; a timeout (an
    // election on a cluster), no responders or a permission error keep their own code
    if (e.code === ErrorCode.NotFound) {
      throw new ChronicleError(ErrorCode.NotFound, `stream ${stream} does not exist: provision it first`, { cause: err, context: { stream, group } });
    }
    throw e;
  });
}

/**
 * Joins (creating when needed, with no admin step) the consumer group
 * `options.group` of a stream and starts handling events.
 *
 * The stream's partitions are spread evenly over the live members and move
 * when a member joins, leaves or dies (within `failoverMs`, default 10 s).
 * One member at a time owns a partition: it takes it with a compare-and-set
 * claim in the group's state stream and reads it through a consumer of its
 * own, and the next owner starts only after it has released the partition
 * or its lease has run out. For every key, the first handling of each event
 * follows stream order (events redriven from the dead-letter stream
 * excepted); a handover alone runs no handler twice. Handled idempotency
 * keys travel in the partition's state, so a redelivery after a crash, or an
 * event published again with the same key, is skipped. Failing handlers are
 * retried in the member, then dead-lettered. See docs/consumer-groups.md.
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
  const resolved = resolveGroupOptions(options);
  const info = await streamInfo(conn, stream, group);
  const hasDeadLetters = await conn.jsm.streams.info(layout.dlqStream(stream)).then(
    () => true,
    () => false,
  );
  const replicas = definition.settings.replicas;
  const log = new StateLog(conn, stream);
  await log.ensure(replicas);
  const groupRecord = await ensureGroupRecord(log, group, () => startFloor(conn, stream, resolved.startAt, info.state.last_seq), resolved.timing.leaseMs);
  const kv = await openGroupsBucket(conn, replicas);
  const memberId = (options.memberId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`).replace(/[^A-Za-z0-9_-]/g, "_");
  const abort = new AbortController();
  const context: MemberContext = {
    conn,
    wire: wireOf(conn),
    apiPrefix: conn.js.getOptions().apiPrefix ?? "$JS.API",
    definition: definition as unknown as StreamDefinition,
    stream,
    group,
    memberId,
    handlers: options.handlers as MemberContext["handlers"],
    store: options.store ? storeOps(options.store) : undefined,
    epoch: groupRecord.epoch,
    retry: resolved.retry,
    retention: resolved.retention,
    timing: resolved.timing,
    log,
    metrics: new ConsumerMetrics(stream, group, options.meter),
    tracing: resolved.tracing,
    signal: abort.signal,
    handlerPermits: new Semaphore(resolved.maxConcurrency),
    unrecordedPermits: new Semaphore(resolved.maxUnrecorded),
    unrecordedLimit: resolved.maxUnrecorded,
    turns: new TurnBudget(TURN_BUDGET_MS),
    onError:
      options.onError ??
      ((err, ctx) => {
        console.error(`chronicle: ${stream}/${group}${ctx.sequence !== undefined ? ` #${ctx.sequence}` : ""}: ${(err as Error)?.message ?? String(err)}`);
      }),
  };
  const slots = new SlotManager(context, groupSlots(definition.settings.partitions, hasDeadLetters), groupRecord.floor, options.onAssignment);
  const { heartbeatMs, sessionTimeoutMs } = resolved.timing;
  const memberInfo = { id: memberId, host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), sessionTimeoutMs };
  const counts = () => context.metrics.totals();
  const membership = new Membership(kv, stream, group, memberInfo, heartbeatMs, sessionTimeoutMs, (live) => slots.onMembers(live), counts);
  await membership.join();
  let stopped = false;
  watchConnection(context, slots, () => stopped);

  const member: ConsumerGroupMember = {
    id: memberId,
    group,
    stream,
    partitions: () => slots.partitions(),
    members: () => membership.members(),
    assignmentSettled: () => slots.whenSettled(),
    metrics: () => context.metrics.snapshot(),
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort(new ChronicleError(ErrorCode.Closed, `consumer group member ${memberId} is stopping`));
      await slots.stop();
      await membership.leave();
    },
    async [Symbol.asyncDispose]() {
      await member.stop();
    },
  };
  return member;
}

/**
 * After a reconnect, deliveries in flight may be lost: every owner reads
 * its partition again from its floor. A connection closed under a running
 * member cannot come back: that is said once.
 */
function watchConnection(context: MemberContext, slots: SlotManager, stopped: () => boolean): void {
  const { conn, stream, group, memberId } = context;
  void (async () => {
    for await (const s of conn.nc.status()) {
      if (s.type === "reconnect" && !stopped()) slots.resyncAll("the connection was re-established");
    }
  })().catch(() => undefined);
  void conn.nc.closed().then(() => {
    if (stopped()) return;
    context.onError(
      new ChronicleError(
        ErrorCode.Closed,
        `the NATS connection of member ${memberId} of ${stream}/${group} was closed while it ran: it reads nothing more; stop() it and start a member on an open connection`,
        { context: { stream, group } },
      ),
      { stream },
    );
  });
}
