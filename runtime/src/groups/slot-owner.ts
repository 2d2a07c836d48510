import type { Msg } from "@nats-io/transport-node";
import { ChronicleError, ErrorCode } from "../errors.js";
import { translateNatsError } from "../nats-error.js";
import type { Claim } from "./claim-slot.js";
import type { DeliveryInfo } from "./delivery-info.js";
import { FloorTracker } from "./floor-tracker.js";
import type { HandledKeys } from "./handled-keys.js";
import type { MemberContext } from "./member-context.js";
import { Meta, slotSource, stateNames, type Slot } from "./names.js";
import { readDelivery, type Delivery } from "./read-delivery.js";
import { recordInStore, runEvent, startHandler, type EventOwner, type SettleKind } from "./run-event.js";
import { SlotReader } from "./slot-reader.js";
import { replaySlot, type SlotState } from "./slot-state.js";
import { SlotWriter, type WriteOutcome } from "./slot-writer.js";
import type { FailingEntry, OwnerFields, SlotRecord } from "./state-records.js";

/** The events of one key in a slot, run one after another in stream order. */
interface Lane {
  /** An event of the key has its turn (running, waiting for its retry, or parked). */
  busy: boolean;
  queue: Delivery[];
  /** The event waiting for its retry, and its timer. */
  retry: { delivery: Delivery; timer: NodeJS.Timeout } | undefined;
}

/** What an owner is doing. */
type OwnerState = "reading" | "resyncing" | "releasing" | "fenced" | "done";

/** Why an owner ended: it released the slot, or found it taken (fenced). @private */
export type OwnerEnd = "released" | "fenced";

/** Events handled whose result goes into the slot's next write. */
interface PendingWrite {
  keys: string[];
  deliveries: Delivery[];
  dead: number[];
  failingChanged: boolean;
}

const emptyPending = (): PendingWrite => ({ keys: [], deliveries: [], dead: [], failingChanged: false });

/** About how many characters a record holding `keys` takes in the slot's log. */
const recordChars = (keys: readonly string[]): number => 200 + keys.reduce((a, k) => a + k.length + 3, 0);

/** Characters written since the last snapshot above which a snapshot is taken (and at least twice the snapshot's size). */
const SNAPSHOT_MIN_CHARS = 256 * 1024;

/**
 * Owns one slot of a group from a successful claim until it releases the
 * slot or finds it taken: reads the slot's records into its state, deletes
 * the previous owner's consumer and reads through its own, runs the events
 * in per-key lanes (one key's events in stream order, keys concurrently),
 * and writes its progress to the slot's subject (see {@link SlotWriter}):
 * handled idempotency keys, the floor, dead letters and failing attempts,
 * one write at a time, each carrying what the previous one's round trip
 * collected. A handled event counts as done once the write holding its key
 * is stored (or, with a user-supplied store, once its record is).
 * @private
 */
export class SlotOwner implements EventOwner {
  readonly slot: Slot;
  readonly token: string;
  private readonly subject: string;
  private readonly source: { stream: string; filter: string };
  private readonly writer: SlotWriter;
  private readonly tracker: FloorTracker;
  private readonly keys: HandledKeys;
  private readonly dead: Set<number>;
  private readonly failingBySeq: Map<number, FailingEntry>;
  private readonly lanes = new Map<string, Lane>();
  /** Lanes whose next event waits for the next turn of the event loop. */
  private readonly deferred = new Map<string, Lane>();
  private consumer: string;
  private consumerCount = 0;
  private reader: SlotReader | undefined;
  private state: OwnerState = "reading";
  /** Deliveries received and not yet done with (settled and stored, or dropped). */
  private buffered = 0;
  /** Deliveries holding an unrecorded permit (their turn started, their result is not stored yet). */
  private holders = 0;
  /** Deliveries whose turn is under way: from their handler permit to `released` (a lookup, the handler, a dead letter). */
  private active = 0;
  private idle: (() => void) | undefined;
  /** Which reading of the slot is current: a resync starts the next one. */
  private reading = 1;
  /** Set once the release record is queued: no write may follow it. */
  private finalWriteQueued = false;
  private pending = emptyPending();
  private writeScheduled = false;
  private writing = false;
  /** Settles when the latest {@link writeNow} is done, snapshot included. */
  private lastWrite: Promise<void> = Promise.resolve();
  private readonly parked: Delivery[] = [];
  private lastPending = 0;
  private charsSinceSnapshot: number;
  private readonly renewTimer: NodeJS.Timeout;
  private drained: (() => void) | undefined;
  private ended: Promise<OwnerEnd> | undefined;
  private readonly prefetch: number;

  private constructor(
    private readonly member: MemberContext,
    claim: Claim,
    loaded: SlotState,
    private readonly onEnd: (owner: SlotOwner, end: OwnerEnd) => void,
  ) {
    this.slot = claim.slot;
    this.token = claim.token;
    this.consumer = claim.consumer;
    this.subject = stateNames.slot(member.stream, member.group, claim.slot);
    this.source = slotSource(member.stream, member.group, claim.slot);
    this.tracker = new FloorTracker(loaded.floor);
    this.keys = loaded.keys;
    this.dead = loaded.dead;
    this.failingBySeq = loaded.failing;
    this.charsSinceSnapshot = loaded.recordChars;
    this.prefetch = Math.max(64, Math.min(1024, member.unrecordedLimit));
    this.writer = new SlotWriter(
      member.log,
      this.subject,
      claim.token,
      member.timing,
      claim.seq,
      claim.sentAt,
      () => this.givingUpWrites(),
      (err) => member.onError(err, { stream: member.stream }),
    );
    this.renewTimer = setInterval(() => this.renew(), member.timing.heartbeatMs);
  }

  /**
   * Starts owning `claim`'s slot: reads its records, deletes consumers of
   * earlier owners, creates its own consumer after the floor and starts
   * reading. Throws (after giving the claim up) when it cannot.
   */
  static async start(member: MemberContext, claim: Claim, onEnd: (owner: SlotOwner, end: OwnerEnd) => void): Promise<SlotOwner> {
    const subject = stateNames.slot(member.stream, member.group, claim.slot);
    const records = await member.log.readSlot(subject, claim.seq, (seq) =>
      member.onError(new ChronicleError(ErrorCode.Internal, `record #${seq} of ${subject} is not a group state record: skipped`), { stream: member.stream }),
    );
    const loaded = replaySlot(
      records.map((r) => r.record),
      member.retention,
      Date.now(),
      (r) => JSON.stringify(r).length,
    );
    const owner = new SlotOwner(member, claim, loaded, onEnd);
    try {
      loaded.consumers.delete(claim.consumer);
      await Promise.all([...loaded.consumers].map((name) => owner.deleteConsumer(name)));
      await owner.openReader();
    } catch (err) {
      await owner.release();
      throw err;
    }
    return owner;
  }

  /** Events received and not yet done with. */
  get held(): number {
    return this.buffered;
  }

  // ---- reading ----

  private async openReader(): Promise<void> {
    const m = this.member;
    const floor = this.tracker.floor;
    await m.conn.jsm.consumers
      .add(this.source.stream, {
        name: this.consumer,
        filter_subject: this.source.filter,
        ack_policy: "none",
        deliver_policy: "by_start_sequence",
        opt_start_seq: floor + 1,
        inactive_threshold: Math.max(60_000, 10 * m.timing.sessionTimeoutMs) * 1_000_000,
        mem_storage: true,
        num_replicas: 1,
        metadata: { [Meta.Group]: m.group, [Meta.Slot]: String(this.slot), [Meta.Stream]: m.stream, [Meta.Token]: this.token },
      } as never)
      .catch((err: unknown) => {
        throw translateNatsError(err, `cannot create consumer ${this.consumer} on ${this.source.stream}`, { stream: this.source.stream, group: m.group });
      });
    if (this.state !== "reading" && this.state !== "resyncing") {
      await this.deleteConsumer(this.consumer);
      return;
    }
    this.state = "reading";
    this.reader = new SlotReader(
      m.conn.nc,
      {
        apiPrefix: m.apiPrefix,
        stream: this.source.stream,
        consumer: this.consumer,
        // a request that expires empty is asked for again at once (requestEnded): the expiry only bounds how
        // long the server keeps a request of a member that went away
        expiresMs: Math.max(5000, Math.min(30_000, 10 * m.timing.heartbeatMs)),
        heartbeatMs: Math.max(500, Math.min(5000, m.timing.heartbeatMs * 2)),
      },
      { delivered: (msg, info) => this.delivered(msg, info), lost: (reason) => void this.resync(reason), requestEnded: () => this.pullMore() },
    );
    this.pullMore();
  }

  private pullMore(): void {
    const r = this.reader;
    if (!r || this.state !== "reading") return;
    const room = this.prefetch - this.buffered - r.requested;
    if (room >= this.prefetch / 4) r.pull(room);
  }

  private delivered(msg: Msg, info: DeliveryInfo): void {
    if (this.state !== "reading") return;
    const m = this.member;
    let delivery: Delivery;
    try {
      delivery = readDelivery(m, msg, info, this.slot === "redrive");
    } catch (err) {
      m.onError(err, { stream: this.source.stream, sequence: info.streamSequence });
      void this.resync("a delivery could not be read");
      return;
    }
    this.buffered++;
    delivery.reading = this.reading;
    delivery.position = this.tracker.add(info.streamSequence);
    this.lastPending = info.pending;
    const seq = info.streamSequence;
    if (this.dead.has(seq)) {
      // dead-lettered by an earlier owner whose floor had not passed it yet
      this.tracker.settle(delivery.position);
      this.finish(delivery);
      return;
    }
    const failing = this.failingBySeq.get(seq);
    if (failing) {
      delivery.attempt = failing[1] + 1;
      delivery.firstFailure = failing[2];
    }
    let lane = this.lanes.get(delivery.key);
    if (!lane) {
      lane = { busy: false, queue: [], retry: undefined };
      this.lanes.set(delivery.key, lane);
    }
    lane.queue.push(delivery);
    this.pump(delivery.key, lane);
  }

  private pump(key: string, lane: Lane): void {
    if (lane.busy || this.state !== "reading") return;
    if (lane.queue.length > 0 && this.member.turns.exhausted()) return this.defer(key, lane);
    const delivery = lane.queue.shift();
    if (!delivery) {
      if (this.lanes.get(key) === lane) this.lanes.delete(key);
      return;
    }
    lane.busy = true;
    if (this.member.unrecordedPermits.tryAcquire()) this.permitted(delivery);
    else this.member.unrecordedPermits.wait(() => this.permitted(delivery));
  }

  /** Starts `lane`'s next event in a later turn of the event loop (this one has run long enough). */
  private defer(key: string, lane: Lane): void {
    this.deferred.set(key, lane);
    if (this.deferred.size > 1) return;
    setImmediate(() => {
      const lanes = [...this.deferred];
      this.deferred.clear();
      for (const [k, l] of lanes) this.pump(k, l);
    });
  }

  /** `delivery` got its unrecorded permit: it holds it until its result is stored (or it goes back). */
  private permitted(delivery: Delivery): void {
    delivery.holdsPermit = true;
    this.holders++;
    this.withHandlerPermit(delivery, () => runEvent(this.member, this, delivery, this.keys));
  }

  /** Runs `run` once a handler permit is free, if `delivery` is still of the current reading (otherwise it goes back). */
  private withHandlerPermit(delivery: Delivery, run: () => void): void {
    if (this.member.handlerPermits.tryAcquire()) this.run(delivery, run);
    else this.member.handlerPermits.wait(() => this.run(delivery, run));
  }

  private run(delivery: Delivery, run: () => void): void {
    if (this.state !== "reading" || delivery.reading !== this.reading) {
      this.member.handlerPermits.release();
      this.drop(delivery);
      return;
    }
    this.active++;
    try {
      run();
    } catch (err) {
      // runEvent does not throw; should it, the event is left for the next reading of the slot
      this.member.onError(err, { stream: this.source.stream, sequence: delivery.info.streamSequence });
      this.released(delivery);
      this.settled(delivery, "left");
    }
  }

  // ---- EventOwner ----

  mayStart(): boolean {
    if (this.state !== "reading") return false;
    if (this.writer.leaseHolds()) return true;
    this.scheduleWrite();
    return false;
  }

  park(delivery: Delivery): void {
    // the handler permit goes back while it waits: parked events must not hold up other slots
    this.member.handlerPermits.release();
    this.parked.push(delivery);
    this.becameIdle();
    this.scheduleWrite();
  }

  /** One turn fewer under way. */
  private becameIdle(): void {
    if (--this.active === 0 && this.idle) {
      const r = this.idle;
      this.idle = undefined;
      r();
    }
  }

  givingUp(delivery: Delivery): boolean {
    return (
      delivery.reading !== this.reading || this.state === "fenced" || this.state === "done" || this.member.signal.aborted || this.member.conn.nc.isClosed()
    );
  }

  released(delivery: Delivery, retryInMs?: number): void {
    this.member.handlerPermits.release();
    this.becameIdle();
    const lane = delivery.reading === this.reading ? this.lanes.get(delivery.key) : undefined;
    if (!lane) return;
    if (retryInMs !== undefined) {
      if (this.state !== "reading") return this.drop(delivery);
      lane.retry = {
        delivery,
        timer: setTimeout(() => {
          lane.retry = undefined;
          this.withHandlerPermit(delivery, () => startHandler(this.member, this, delivery));
        }, retryInMs),
      };
      return;
    }
    lane.busy = false;
    this.pump(delivery.key, lane);
  }

  handled(delivery: Delivery): void {
    this.keys.add(delivery.stateKey, Date.now());
    if (this.failingBySeq.delete(delivery.info.streamSequence)) this.pending.failingChanged = true;
    if (this.member.store) {
      recordInStore(this.member, this, delivery, () => {
        this.tracker.settle(delivery.position);
        this.member.metrics.count("handled");
        this.finish(delivery);
        this.scheduleWrite();
      });
      return;
    }
    if (this.state === "fenced" || this.state === "done") return this.drop(delivery);
    this.pending.keys.push(delivery.stateKey);
    this.pending.deliveries.push(delivery);
    this.scheduleWrite();
  }

  settled(delivery: Delivery, kind: SettleKind): void {
    if (delivery.phase === "settled") return;
    if (kind === "left") return this.drop(delivery);
    if (this.failingBySeq.delete(delivery.info.streamSequence)) this.pending.failingChanged = true;
    this.tracker.settle(delivery.position);
    if (kind === "dead" && delivery.info.streamSequence > this.tracker.floor) {
      this.dead.add(delivery.info.streamSequence);
      this.pending.dead.push(delivery.info.streamSequence);
    }
    this.finish(delivery);
    this.scheduleWrite();
  }

  failing(delivery: Delivery): void {
    this.failingBySeq.set(delivery.info.streamSequence, [delivery.info.streamSequence, delivery.attempt - 1, delivery.firstFailure ?? Date.now()]);
    this.pending.failingChanged = true;
    this.scheduleWrite();
  }

  // ---- done with an event ----

  /** `delivery` is settled: its permit goes back, the slot may pull again. */
  private finish(delivery: Delivery): void {
    if (!this.letGo(delivery)) return;
    if (this.slot === "redrive" && this.state !== "fenced") {
      // a redrive request is done once settled: remove it from the dead-letter stream
      void this.member.conn.jsm.streams.deleteMessage(this.source.stream, delivery.info.streamSequence, false).catch(() => undefined);
    }
    if (typeof this.slot === "number" && this.state === "reading") this.member.metrics.lag.set(this.slot, this.lastPending + this.buffered);
    this.pullMore();
  }

  /** `delivery` goes back unsettled: the next reading of the slot (after a resync, or the next owner) delivers it again. */
  private drop(delivery: Delivery): void {
    this.letGo(delivery);
  }

  /** Done with `delivery` here (once): it leaves the buffer and gives its permit back. False when it was already. */
  private letGo(delivery: Delivery): boolean {
    if (delivery.phase === "settled") return false;
    delivery.phase = "settled";
    this.buffered--;
    if (delivery.holdsPermit) {
      delivery.holdsPermit = false;
      this.holders--;
      this.member.unrecordedPermits.release();
    }
    this.checkDrained();
    return true;
  }

  // ---- writes ----

  private scheduleWrite(): void {
    if (this.writeScheduled || this.writing || this.finalWriteQueued || this.state === "fenced" || this.state === "done") return;
    this.writeScheduled = true;
    setImmediate(() => {
      this.writeScheduled = false;
      if (!this.finalWriteQueued) void this.writeNow("checkpoint");
    });
  }

  private renew(): void {
    if (this.state === "fenced" || this.state === "done") return;
    if (performance.now() - this.writer.lastSentAt >= this.member.timing.heartbeatMs) this.scheduleWrite();
  }

  private givingUpWrites(): boolean {
    return this.state === "done" || this.member.conn.nc.isClosed();
  }

  /** Writes what is pending (a checkpoint, or the final release); resolves with the outcome. */
  private writeNow(kind: "checkpoint" | "release"): Promise<WriteOutcome> {
    const write = this.writeAndCompact(kind);
    this.lastWrite = write.then(
      () => undefined,
      () => undefined,
    );
    return write;
  }

  /** {@link writeNow}'s work: the write, then a snapshot when the records have grown past one. */
  private async writeAndCompact(kind: "checkpoint" | "release"): Promise<WriteOutcome> {
    if (this.state === "fenced" || this.state === "done") return "fenced";
    this.writing = true;
    const batch = this.pending;
    this.pending = emptyPending();
    for (const delivery of batch.deliveries) this.tracker.settle(delivery.position);
    const floor = this.tracker.floor;
    const dead = batch.dead.filter((s) => s > floor);
    for (const s of this.dead) if (s <= floor) this.dead.delete(s);
    const record = (write: number): SlotRecord => ({
      kind,
      ...this.ownerFields(floor, write),
      ...(batch.keys.length > 0 ? { keys: batch.keys } : {}),
      ...(dead.length > 0 ? { dead } : {}),
      ...(batch.failingChanged || kind === "release" ? { failing: this.failingAbove(floor) } : {}),
    });
    let outcome: WriteOutcome;
    try {
      outcome = await this.writer.write(record);
      if (outcome === "stored") {
        this.charsSinceSnapshot += recordChars(batch.keys);
        for (const delivery of batch.deliveries) {
          this.member.metrics.count("handled");
          this.finish(delivery);
        }
        this.pulse(kind);
        this.resumeParked();
        // still "writing": a release waits for the snapshot's chunks instead of landing between them
        if (kind === "checkpoint" && this.snapshotDue(0)) await this.snapshot();
      }
    } finally {
      this.writing = false;
    }
    if (outcome === "stored") {
      if (this.pendingNonEmpty()) this.scheduleWrite();
    } else if (outcome === "fenced") {
      this.fence();
    } else {
      for (const delivery of batch.deliveries) this.drop(delivery);
    }
    return outcome;
  }

  /** What every record of this owner carries. */
  private ownerFields(floor: number, write: number): OwnerFields {
    return { member: this.member.memberId, token: this.token, consumer: this.consumer, floor, held: this.buffered, at: Date.now(), write };
  }

  /** The failing events above `floor`, as records carry them. */
  private failingAbove(floor: number): FailingEntry[] {
    return [...this.failingBySeq.values()].filter((f) => f[0] > floor);
  }

  private pendingNonEmpty(): boolean {
    const p = this.pending;
    return p.deliveries.length > 0 || p.dead.length > 0 || p.failingChanged || this.parked.length > 0;
  }

  /**
   * Announces a stored write on the slot's pulse subject (core NATS, not
   * stored): members waiting to claim the slot learn of a release at once,
   * and every member knows when the slot was last written, so that a dead
   * owner's slots move one lease after its last write rather than one lease
   * after a member began to want them.
   */
  private pulse(kind: string): void {
    if (!this.member.conn.nc.isClosed())
      this.member.conn.nc.publish(stateNames.pulse(this.member.stream, this.member.group, this.slot), `${this.writer.lastSeq} ${kind}`);
  }

  private resumeParked(): void {
    if (this.parked.length === 0 || !this.writer.leaseHolds()) return;
    const parked = this.parked.splice(0);
    for (const delivery of parked) this.withHandlerPermit(delivery, () => startHandler(this.member, this, delivery));
  }

  private snapshotChars(): number {
    return this.keys.size * 24 + 200;
  }

  /** True when the records written since the last snapshot (plus `extraChars` about to be) outgrow what a snapshot would hold. */
  private snapshotDue(extraChars: number): boolean {
    return this.charsSinceSnapshot + extraChars > Math.max(SNAPSHOT_MIN_CHARS, 2 * this.snapshotChars());
  }

  /** Writes the slot's whole state in chunks, then purges the records before them, so that the next owner reads little. */
  private async snapshot(): Promise<void> {
    const maxPayload = this.member.conn.nc.info?.max_payload ?? 1024 * 1024;
    const chunkChars = Math.max(16 * 1024, Math.min(512 * 1024, Math.floor(maxPayload / 2)));
    const floor = this.tracker.floor;
    let first = 0;
    let chars = 0;
    const chunks = [...this.keys.chunks(chunkChars)];
    if (chunks.length === 0) chunks.push([]);
    for (const keysByTime of chunks) {
      const outcome = await this.writer.write((write) => ({
        kind: "snapshot",
        ...this.ownerFields(floor, write),
        keysByTime,
        dead: [...this.dead].filter((s) => s > floor),
        failing: this.failingAbove(floor),
      }));
      if (outcome === "fenced") return this.fence();
      if (outcome !== "stored") return;
      first ||= this.writer.lastSeq;
      chars += keysByTime.reduce((a, [, ks]) => a + 16 + ks.reduce((b, k) => b + k.length + 3, 0), 200);
    }
    await this.member.log.purgeBelow(this.subject, first).catch((err: unknown) => this.member.onError(err, { stream: this.member.stream }));
    this.charsSinceSnapshot = chars;
  }

  // ---- resync, release, fencing ----

  /**
   * Deliveries can no longer be trusted (a gap, a lost consumer, a
   * reconnect): stop reading, let what runs finish, forget what waits, and
   * read again from the floor through a new consumer. Events above the
   * floor that were handled are recognised by their keys.
   */
  async resync(reason: string): Promise<void> {
    if (this.state !== "reading") return;
    this.state = "resyncing";
    this.reader?.stop();
    this.reader = undefined;
    this.dropWaiting();
    // what runs must end before its event can be delivered again; what was handled is in the keys
    if (this.active > 0) await new Promise<void>((r) => (this.idle = r));
    if (this.state !== "resyncing") return;
    this.reading++;
    this.lanes.clear();
    this.deferred.clear();
    this.tracker.reset();
    const old = this.consumer;
    this.consumer = `${this.consumer.replace(/_r\d+$/, "")}_r${++this.consumerCount}`;
    await this.deleteConsumer(old);
    for (let wait = 250; this.state === "resyncing"; wait = Math.min(wait * 2, 5000)) {
      try {
        // the next write names the new consumer, so that the next owner deletes it
        this.scheduleWrite();
        await this.openReader();
        return;
      } catch (err) {
        if (this.member.conn.nc.isClosed()) return;
        this.member.onError(
          new ChronicleError(
            ErrorCode.Unavailable,
            `slot ${this.slot} of ${this.member.stream}/${this.member.group}: ${reason}; reading again: ${(err as Error).message}`,
            { cause: err },
          ),
          {
            stream: this.member.stream,
          },
        );
        // the next attempt under a new name: a consumer the cluster placed on a node that is down answers
        // nothing, and asking for it again by the same name waits for that node forever (seen after a
        // stream leader's SIGKILL: every retry timed out until the test gave up)
        const failed = this.consumer;
        this.consumer = `${this.consumer.replace(/_r\d+$/, "")}_r${++this.consumerCount}`;
        void this.deleteConsumer(failed);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * Lets the slot go cleanly: stop reading, forget what waits (its attempts
   * travel in the release), let running handlers finish, store their
   * results and the floor in a release record, delete the consumer. The
   * next owner may then claim at once. Resolves when done.
   */
  release(): Promise<OwnerEnd> {
    this.ended ??= this.releaseNow();
    return this.ended;
  }

  private async releaseNow(): Promise<OwnerEnd> {
    if (this.state === "fenced" || this.state === "done") return "fenced";
    this.state = "releasing";
    this.reader?.stop();
    this.reader = undefined;
    this.dropWaiting();
    await this.whenDrained();
    // the write under way, with its snapshot (whose purge is no write of the writer's: its idle() would not wait for it)
    while (this.writing) await this.lastWrite;
    const state = this.state as OwnerState;
    let end: OwnerEnd = "fenced";
    if (state === "releasing") {
      this.finalWriteQueued = true;
      // the next owner reads every record since the last snapshot: leave it a snapshot when they have grown large
      if (!this.member.conn.nc.isClosed() && this.snapshotDue(recordChars(this.pending.keys))) await this.snapshot();
      const outcome = this.member.conn.nc.isClosed() ? "abandoned" : await this.writeNow("release");
      end = outcome === "stored" ? "released" : "fenced";
    }
    this.close();
    await this.deleteConsumer(this.consumer);
    this.onEnd(this, end);
    return end;
  }

  /** Someone else holds the slot now: stop at once, write nothing more. */
  private fence(): void {
    if (this.state === "fenced" || this.state === "done") return;
    const wasReleasing = this.state === "releasing";
    this.state = "fenced";
    this.reader?.stop();
    this.reader = undefined;
    this.dropWaiting();
    for (const delivery of this.pending.deliveries) this.drop(delivery);
    this.pending = emptyPending();
    this.member.onError(
      new ChronicleError(
        ErrorCode.WrongLastSequence,
        `member ${this.member.memberId} lost slot ${this.slot} of ${this.member.stream}/${this.member.group}: another member claimed it (this member's writes stopped for longer than the lease)`,
        { context: { stream: this.member.stream, group: this.member.group } },
      ),
      { stream: this.member.stream },
    );
    if (!wasReleasing) {
      this.ended = Promise.resolve("fenced");
      this.close();
      this.onEnd(this, "fenced");
    }
  }

  private close(): void {
    clearInterval(this.renewTimer);
    if (this.state !== "fenced") this.state = "done";
    for (const lane of this.lanes.values()) if (lane.retry) clearTimeout(lane.retry.timer);
    this.lanes.clear();
    this.deferred.clear();
    if (typeof this.slot === "number") this.member.metrics.lag.delete(this.slot);
  }

  /** Drops every event that has not started (queued, waiting for a retry, parked): they stay above the floor. */
  private dropWaiting(): void {
    for (const lane of this.lanes.values()) {
      for (const delivery of lane.queue) this.drop(delivery);
      lane.queue = [];
      if (lane.retry) {
        clearTimeout(lane.retry.timer);
        this.drop(lane.retry.delivery);
        lane.retry = undefined;
        lane.busy = false;
      }
    }
    for (const delivery of this.parked.splice(0)) this.drop(delivery);
  }

  /** Resolves once every event that started is done or waits only for the next write. */
  private whenDrained(): Promise<void> {
    if (this.holders <= this.pending.deliveries.length) return Promise.resolve();
    return new Promise((r) => (this.drained = r));
  }

  private checkDrained(): void {
    if (this.drained && this.holders <= this.pending.deliveries.length) {
      const r = this.drained;
      this.drained = undefined;
      r();
    }
  }

  private async deleteConsumer(name: string): Promise<void> {
    if (this.member.conn.nc.isClosed()) return;
    await this.member.conn.jsm.consumers.delete(this.source.stream, name).catch(() => undefined);
  }
}
