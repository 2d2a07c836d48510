import { DirectMsgHeaders } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { Msg } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { StoreTelemetry } from "../telemetry/store-telemetry.js";
import type { MeterLike } from "../telemetry/meter.js";
import { wireOf } from "../wire/select-wire.js";
import type { ReplyInbox, TextMessage, Wire } from "../wire/types.js";
import { STORE_OPS, type StoreAnswer, type StoreOps } from "./store-ops.js";
import type { IdempotencyStore } from "./types.js";

/** Options of {@link createKvIdempotencyStore}. */
export interface KvIdempotencyStoreOptions {
  /** Bucket name; default `chronicle_idem_<stream>`. */
  bucket?: string;
  /** How long a handled event is remembered, in ms; default 7 days. Redeliveries later than this run the handler again. */
  ttlMs?: number;
  /** Replicas of the bucket; default 1 (use the stream's replicas on a cluster). */
  replicas?: number;
  /** Stream the store belongs to, for the default bucket name. */
  stream?: string;
  /** How long a lookup or a record may wait for the server before it fails with `unavailable`; default 5 s. */
  timeoutMs?: number;
  /** Where the store's `chronicle.idempotency.duration` histogram is recorded; default the global meter provider's. */
  meter?: MeterLike;
}

/** Default time a KV store remembers a handled event: 7 days. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_TIMEOUT_MS = 5000;

/** The header of a KV entry that says what its last operation was (NATS KV: `PUT`, `DEL` or `PURGE`). */
const KV_OPERATION_HEADER = "KV-Operation";

/** Status codes of the end of a batched direct get: every held key was sent (204), none was held (404). */
const END_OF_BATCH = 204;
const NONE_FOUND = 404;

/** Keys per batched lookup request. */
const MAX_KEYS_PER_LOOKUP = 256;

/** The value of a record: one byte (the key is what matters). */
const RECORD_VALUE = "\u0001";

/** The callers waiting for one key's answer: nearly always one, so no array for it. */
type Callers = StoreAnswer | StoreAnswer[];

function answerAll(callers: Callers, result: boolean | Error): void {
  if (typeof callers === "function") callers(result);
  else for (const c of callers) c(result);
}

/** One record, queued (token -1) or sent. */
interface PendingRecord {
  sentAt: number;
  key: string;
  caller: StoreAnswer;
  token: number;
}

/** One batched lookup in flight: the callers of its keys not answered yet, by subject. */
interface PendingLookup {
  sentAt: number;
  token: number;
  /** The first key, to name the lookup in errors. */
  key: string;
  callersBySubject: Map<string, Callers>;
}

type Pending = PendingRecord | PendingLookup;

const isLookup = (p: Pending): p is PendingLookup => "callersBySubject" in p;

const ERROR_FIELD = new TextEncoder().encode('"error"');
const decoder = new TextDecoder();

/** True when a publish acknowledgement holds `"error"` (is not an acknowledgement), read without decoding it. */
function mentionsError(data: Uint8Array): boolean {
  const n = ERROR_FIELD.length;
  next: for (let i = 0; i + n <= data.length; i++) {
    for (let j = 0; j < n; j++) if (data[i + j] !== ERROR_FIELD[j]) continue next;
    return true;
  }
  return false;
}

/**
 * Lookups and records of one bucket, pipelined over a single reply inbox
 * whose answers are matched by token; there is no per-operation timer,
 * subscription or error object (nats.js `request()` makes all three), and
 * one interval fails operations older than the timeout.
 *
 * - A record is one publish to the key's subject with a reply subject; the
 *   server's acknowledgement answers it.
 * - Everything asked for in one run of callbacks and microtasks is sent
 *   together in a microtask after them, one socket write where the wire can.
 * - Lookups asked for together leave as one batched direct get
 *   (`multi_last`, server 2.11+) of up to 256 keys: the server answers with
 *   the keys it holds, then an end-of-batch status, so a batch of new
 *   events costs one request and one answer, not one pair per event.
 */
class KvBucketClient {
  private readonly inbox: ReplyInbox;
  private readonly pending = new Map<number, Pending>();
  private lastToken = 0;
  /** Lookups asked for and not yet sent: keys and their callers, side by side (no object per lookup). */
  private lookupKeys: string[] = [];
  private lookupCallers: StoreAnswer[] = [];
  private records: PendingRecord[] = [];
  /** `$KV.<bucket>.`: the start of every record's subject. */
  private readonly keyPrefix: string;
  /** The direct-get API subject of the bucket's stream. */
  private readonly directGetSubject: string;
  private sendScheduled = false;
  private readonly sweeper: NodeJS.Timeout;
  private failure: Error | undefined;
  private statusEvents: { stop?: () => void } | undefined;

  constructor(
    private readonly conn: ChronicleConnection,
    private readonly wire: Wire,
    private readonly bucket: string,
    private readonly timeoutMs: number,
    private readonly telemetry: StoreTelemetry,
  ) {
    this.keyPrefix = `$KV.${bucket}.`;
    this.directGetSubject = `${conn.js.apiPrefix}.DIRECT.GET.KV_${bucket}`;
    this.inbox = wire.openInbox({ reply: (token, msg) => this.onAnswer(token, msg), error: (err) => this.fail(err) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(1000, timeoutMs / 4)));
    this.sweeper.unref();
    void this.watchReconnects();
    void conn.nc.closed().then(() => this.fail(new ChronicleError(ErrorCode.Closed, `connection closed`)));
  }

  /** Looks `key` up: `answer(true)` when recorded, `false` when not, an error when the server does not say. Never answers synchronously. */
  lookup(key: string, answer: StoreAnswer): void {
    const failure = this.failure;
    if (failure) queueMicrotask(() => answer(failure));
    else {
      this.lookupKeys.push(key);
      this.lookupCallers.push(answer);
      this.scheduleSend();
    }
  }

  /** Records `key`: `answer(true)` once the server stored it. Never answers synchronously. */
  record(key: string, answer: StoreAnswer): void {
    const failure = this.failure;
    if (failure) queueMicrotask(() => answer(failure));
    else {
      this.records.push({ sentAt: 0, key, caller: answer, token: -1 });
      this.scheduleSend();
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.statusEvents?.stop?.();
    if (!this.conn.nc.isClosed()) this.inbox.close();
    this.fail(new ChronicleError(ErrorCode.Closed, `idempotency store of ${this.bucket} is closed`));
  }

  /**
   * Sends what was asked for once the current run of callbacks and
   * microtasks is done (a microtask, not a later turn): requests made
   * together leave together, and a record is on its way to the server right
   * after its handler finished (the client dying then usually does not lose
   * it).
   */
  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    queueMicrotask(() => {
      this.sendScheduled = false;
      this.sendLookups();
      this.sendRecords();
    });
  }

  private sendRecords(): void {
    const records = this.records;
    if (records.length === 0) return;
    this.records = [];
    const now = performance.now();
    for (const r of records) {
      r.sentAt = now;
      r.token = ++this.lastToken;
      this.pending.set(r.token, r);
    }
    this.publish(records);
  }

  private sendLookups(): void {
    const keys = this.lookupKeys;
    const callers = this.lookupCallers;
    if (keys.length === 0) return;
    this.lookupKeys = [];
    this.lookupCallers = [];
    const now = performance.now();
    const lookups: PendingLookup[] = [];
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_LOOKUP) {
      const callersBySubject = new Map<string, Callers>();
      const stop = Math.min(keys.length, i + MAX_KEYS_PER_LOOKUP);
      for (let k = i; k < stop; k++) {
        const subject = this.keyPrefix + keys[k]!;
        const caller = callers[k]!;
        const same = callersBySubject.get(subject);
        if (same === undefined) callersBySubject.set(subject, caller);
        else if (typeof same === "function") callersBySubject.set(subject, [same, caller]);
        else same.push(caller);
      }
      const lookup: PendingLookup = { sentAt: now, token: ++this.lastToken, key: keys[i]!, callersBySubject };
      this.pending.set(lookup.token, lookup);
      lookups.push(lookup);
    }
    this.publish(lookups);
  }

  /** Sends records and lookups together; one that cannot be sent fails its callers. */
  private publish(items: readonly Pending[]): void {
    const messages = items.map((p): TextMessage => {
      const reply = `${this.inbox.subject}.${p.token}`;
      if (!isLookup(p)) return { subject: this.keyPrefix + p.key, reply, payload: RECORD_VALUE };
      const subjects = [...p.callersBySubject.keys()];
      return { subject: this.directGetSubject, reply, payload: JSON.stringify({ multi_last: subjects, batch: subjects.length }) };
    });
    this.wire.publishText(messages, (index, err) => {
      const p = items[index]!;
      this.pending.delete(p.token);
      this.answerPending(p, this.error(p.key, err instanceof Error ? err.message : String(err), err));
    });
  }

  /**
   * After a reconnect, sends again every lookup and record still waiting:
   * what was on the wire when the connection dropped (a server restart) gets
   * no answer, and both are safe to repeat (a record written twice is one
   * more revision of the same marker; an answer that comes twice finds its
   * token gone). Without this they would wait for the sweep's `timeoutMs`.
   */
  private resendPending(): void {
    const now = performance.now();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      p.sentAt = now; // re-inserted in the same order: insertion order stays time order for the sweep
      this.pending.set(p.token, p);
    }
    if (all.length > 0) this.publish(all);
  }

  private async watchReconnects(): Promise<void> {
    const events = this.conn.nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.statusEvents = events;
    try {
      for await (const s of events) if (s.type === "reconnect") this.resendPending();
    } catch {
      // the connection closed
    }
  }

  private onAnswer(token: number, msg: Msg): void {
    const p = this.pending.get(token);
    if (!p) return;
    const status = msg.headers?.code ?? 0;
    if (isLookup(p)) {
      if (status === 0) {
        // one key the server holds: recorded unless its last entry is a delete or purge marker
        const subject = msg.headers?.get(DirectMsgHeaders.Subject) ?? "";
        const callers = p.callersBySubject.get(subject);
        if (!callers) return;
        p.callersBySubject.delete(subject);
        const op = msg.headers?.get(KV_OPERATION_HEADER);
        answerAll(callers, op !== "DEL" && op !== "PURGE");
        return;
      }
      this.pending.delete(token);
      // the rest are not recorded (never written, or expired)
      if (status === END_OF_BATCH || status === NONE_FOUND) {
        this.telemetry.answered("lookup", p.sentAt);
        for (const callers of p.callersBySubject.values()) answerAll(callers, false);
      } else this.answerPending(p, this.error(p.key, `${status} ${msg.headers?.description ?? ""}`));
      return;
    }
    this.pending.delete(token);
    if (status !== 0) this.answerPending(p, this.error(p.key, `${status} ${msg.headers?.description ?? ""}`));
    // a publish acknowledgement: {"stream":..,"seq":..} or {"error":{..}} (decoded only then)
    else if (mentionsError(msg.data)) this.answerPending(p, this.error(p.key, decoder.decode(msg.data)));
    else {
      this.telemetry.answered("record", p.sentAt);
      p.caller(true);
    }
  }

  private sweep(): void {
    const old = performance.now() - this.timeoutMs;
    for (const [token, p] of this.pending) {
      if (p.sentAt > old) break; // insertion order is time order
      this.pending.delete(token);
      this.answerPending(p, this.error(p.key, `no answer within ${this.timeoutMs} ms`));
    }
  }

  /** Fails everything waiting and everything asked for from now on. */
  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) this.answerPending(p, this.error(p.key, err.message, err));
    this.pending.clear();
    const keys = this.lookupKeys;
    const callers = this.lookupCallers;
    const records = this.records;
    this.lookupKeys = [];
    this.lookupCallers = [];
    this.records = [];
    keys.forEach((key, i) => callers[i]!(this.error(key, err.message, err)));
    for (const r of records) r.caller(this.error(r.key, err.message, err));
  }

  private answerPending(p: Pending, e: ChronicleError): void {
    if (isLookup(p)) {
      this.telemetry.answered("lookup", p.sentAt, e);
      for (const callers of p.callersBySubject.values()) answerAll(callers, e);
    } else {
      this.telemetry.answered("record", p.sentAt, e);
      p.caller(e);
    }
  }

  private error(key: string, why: string, cause?: unknown): ChronicleError {
    return new ChronicleError(ErrorCode.Unavailable, `idempotency store ${this.bucket}: no answer for ${key}: ${why}`, {
      ...(cause !== undefined ? { cause } : {}),
      context: { bucket: this.bucket, key },
    });
  }
}

/** Opens the bucket, creating it when missing. */
async function openBucket(conn: ChronicleConnection, bucket: string, options: KvIdempotencyStoreOptions): Promise<KV> {
  const kvm = new Kvm(conn.js);
  try {
    return await kvm.create(bucket, { history: 1, ttl: options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS, replicas: options.replicas ?? 1 });
  } catch (createErr) {
    try {
      const kv = await kvm.open(bucket);
      await kv.status();
      return kv;
    } catch {
      throw new ChronicleError(ErrorCode.Unavailable, `cannot open idempotency bucket ${bucket}: ${(createErr as Error).message}`, {
        cause: createErr,
        context: { bucket },
      });
    }
  }
}

/**
 * The default idempotency store: a JetStream KV bucket whose entries expire
 * after `ttlMs`. `markDone` resolves after the server stored the record (on a
 * cluster, after a quorum of replicas), so a record survives member crashes
 * and is seen by every member of the group. The bucket is created when
 * missing. Keys must be valid KV keys (the runtime passes
 * `<group>.<epoch>.<key>` with each part made safe).
 *
 * Lookups (batched direct gets of the keys' last values) and records
 * (publishes to the key's subject, acknowledged by the server) are pipelined
 * over the connection's wire: callers may have thousands in flight, each
 * costs one message each way and no timer. A bucket without direct gets is
 * read with `kv.get`.
 */
export async function createKvIdempotencyStore(
  conn: ChronicleConnection,
  options: KvIdempotencyStoreOptions = {},
): Promise<IdempotencyStore & { readonly bucket: string }> {
  const bucket = options.bucket ?? `chronicle_idem_${options.stream ?? "default"}`;
  const kv = await openBucket(conn, bucket, options);
  const direct = (await kv.status()).streamInfo.config.allow_direct === true;
  const client = new KvBucketClient(conn, wireOf(conn), bucket, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, new StoreTelemetry(bucket, options.meter));
  const ops: StoreOps = {
    lookup(key, answer) {
      if (direct) client.lookup(key, answer);
      else
        kv.get(key).then(
          (e) => answer(e !== null && e.operation === "PUT"),
          (err: unknown) => answer(err instanceof Error ? err : new Error(String(err))),
        );
    },
    record: (key, answer) => client.record(key, answer),
  };
  const promised = (op: StoreOps["lookup"], key: string) =>
    new Promise<boolean>((resolve, reject) => op(key, (r) => (r instanceof Error ? reject(r) : resolve(r))));
  const store = {
    bucket,
    [STORE_OPS]: ops,
    isDone: (key: string) => promised(ops.lookup, key),
    markDone: (key: string): Promise<void> => promised(ops.record, key).then(() => undefined),
    close() {
      client.close();
      return Promise.resolve();
    },
  };
  return store;
}
