import { Kvm, type KV } from "@nats-io/kv";
import { createInbox, type Msg, type Subscription } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../connection.js";
import { frameSinkOf, sendTextFrames, type FrameSink } from "../frame-sink.js";
import { ChronicleError, ErrorCode } from "../errors.js";
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
}

/** Default time a KV store remembers a handled event: 7 days. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 7 * 24 * 3600 * 1000;

/** Who waits for one operation's answer. */
type Caller = StoreAnswer;
/** The callers waiting for one key's answer: nearly always one, so no array for it. */
type Callers = Caller | Caller[];

function answerAll(callers: Callers, result: boolean | Error): void {
  if (typeof callers === "function") callers(result);
  else for (const c of callers) c(result);
}

/** One record, queued (token 0) or in flight. */
interface PendingRecord {
  at: number;
  key: string;
  caller: Caller;
  token: number;
}
/** One batched lookup in flight: the callers of its keys not answered yet, by subject. */
interface PendingLookup {
  at: number;
  key: string;
  bySubject: Map<string, Callers>;
}
type Waiter = PendingRecord | PendingLookup;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const ERROR_FIELD = encoder.encode('"error"');

/** True when the bytes hold `"error"` (a publish acknowledgement that is not one). */
function mentionsError(data: Uint8Array): boolean {
  const n = ERROR_FIELD.length;
  next: for (let i = 0; i + n <= data.length; i++) {
    for (let j = 0; j < n; j++) if (data[i + j] !== ERROR_FIELD[j]) continue next;
    return true;
  }
  return false;
}

/** The number after `skip` characters of an answer's subject (`<inbox>.<token>`), read from nats.js 3.x's raw subject bytes when there. */
function tokenOf(msg: Msg, skip: number): number {
  const raw = (msg as unknown as { _msg?: { subject?: unknown } })._msg?.subject;
  if (!(raw instanceof Uint8Array)) return Number(msg.subject.slice(skip));
  let n = 0;
  for (let i = skip; i < raw.length; i++) {
    const digit = raw[i]! - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** Keys per batched lookup request. */
const MAX_KEYS_PER_LOOKUP = 256;

const MARKER = new Uint8Array([1]);

/**
 * Lookups and records of one bucket, pipelined, over a single wildcard inbox
 * subscription whose answers are matched in a Map; there is no per-operation
 * timer, subscription or error object (nats.js `request()` makes all three),
 * and one interval fails operations older than the timeout.
 *
 * - A record is one publish to the key's subject with a reply subject; the
 *   server's acknowledgement resolves it.
 * - Everything asked for in one run of callbacks and microtasks is sent
 *   together in a microtask after them, in one socket write.
 * - Lookups made in the same event-loop turn leave as one batched direct
 *   get (`multi_last`, server 2.11+) of up to 256 keys: the server answers
 *   with the keys it holds, then an end-of-batch status, so a batch of new
 *   events costs one request and one answer, not one pair per event.
 */
class KvPipe {
  private readonly prefix = createInbox();
  private readonly waiting = new Map<number, Waiter>();
  private next = 0;
  /** Lookups asked for and not yet sent: keys and their callers, side by side (no object per lookup). */
  private getKeys: string[] = [];
  private getCallers: Caller[] = [];
  private puts: PendingRecord[] = [];
  /** `$KV.<bucket>.` and `<inbox>.`, the fixed parts of every record frame. */
  private readonly keyPrefix: string;
  private readonly replyPrefix: string;
  private scheduled = false;
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private failure: Error | undefined;
  private status: { stop?: () => void } | undefined;
  /** nats.js's protocol handler: lookups and records go out as whole frames written here. */
  private readonly sink: FrameSink | undefined;

  constructor(
    private readonly conn: ChronicleConnection,
    private readonly bucket: string,
    private readonly timeoutMs: number,
  ) {
    this.sink = frameSinkOf(conn.nc);
    this.keyPrefix = `$KV.${bucket}.`;
    this.replyPrefix = `${this.prefix}.`;
    this.sub = conn.nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => this.answer(err, msg) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(1000, timeoutMs / 4)));
    this.sweeper.unref();
    void this.watchReconnects();
    void conn.nc.closed().then(() => this.fail(new ChronicleError(ErrorCode.Closed, `connection closed`)));
  }

  /** Looks `key` up: `answer(true)` when recorded, `false` when not, an error when the server does not say. Never answers synchronously. */
  get(key: string, answer: Caller): void {
    const failure = this.failure;
    if (failure) queueMicrotask(() => answer(failure));
    else {
      this.getKeys.push(key);
      this.getCallers.push(answer);
      this.schedule();
    }
  }

  /** Records `key`: `answer(true)` once the server stored it. Never answers synchronously. */
  put(key: string, answer: Caller): void {
    const failure = this.failure;
    if (failure) queueMicrotask(() => answer(failure));
    else {
      this.puts.push({ at: 0, key, caller: answer, token: 0 });
      this.schedule();
    }
  }

  /**
   * Sends what was asked for once the current run of callbacks and microtasks is done (a
   * microtask, not a later turn): requests made together leave in one socket write, and a record
   * is on its way to the server right after its handler finished (the client dying then
   * usually does not lose it).
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flushGets();
      this.flushPuts();
    });
  }

  private flushPuts(): void {
    const all = this.puts;
    if (all.length === 0) return;
    this.puts = [];
    const now = Date.now();
    for (const w of all) {
      w.at = now;
      w.token = this.next++;
      this.waiting.set(w.token, w);
    }
    this.writeRecords(all);
  }

  /** One `PUB $KV.<bucket>.<key> <inbox>.<token> 1` frame per record, all in one buffer. */
  private writeRecords(records: PendingRecord[]): void {
    let frames = "";
    for (const w of records) frames += `PUB ${this.keyPrefix}${w.key} ${this.replyPrefix}${w.token} 1\r\n\u0001\r\n`;
    if (sendTextFrames(this.conn.nc, this.sink, frames, records.length, records.length)) return;
    for (const w of records) this.send(w.token, `${this.keyPrefix}${w.key}`, MARKER, [w.caller], w.key);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.status?.stop?.();
    this.sub.unsubscribe();
    this.fail(new ChronicleError(ErrorCode.Closed, `idempotency store of ${this.bucket} is closed`));
  }

  private flushGets(): void {
    const keys = this.getKeys;
    const callers = this.getCallers;
    if (keys.length === 0) return;
    this.getKeys = [];
    this.getCallers = [];
    const now = Date.now();
    for (let i = 0; i < keys.length; i += MAX_KEYS_PER_LOOKUP) {
      const bySubject = new Map<string, Callers>();
      const stop = Math.min(keys.length, i + MAX_KEYS_PER_LOOKUP);
      for (let k = i; k < stop; k++) {
        const subject = this.keyPrefix + keys[k]!;
        const caller = callers[k]!;
        const same = bySubject.get(subject);
        if (same === undefined) bySubject.set(subject, caller);
        else if (typeof same === "function") bySubject.set(subject, [same, caller]);
        else same.push(caller);
      }
      const token = this.next++;
      const w: PendingLookup = { at: now, key: keys[i]!, bySubject };
      this.waiting.set(token, w);
      this.writeLookup(token, w);
    }
  }

  /** One batched direct get of the lookup's keys not answered yet. */
  private writeLookup(token: number, w: PendingLookup): void {
    const body = JSON.stringify({ multi_last: [...w.bySubject.keys()], batch: w.bySubject.size });
    const subject = `${this.conn.js.apiPrefix}.DIRECT.GET.KV_${this.bucket}`;
    const size = Buffer.byteLength(body);
    // (a body over the server's max_payload goes through nc.publish, which refuses it with a clear error)
    const fits = size <= (this.sink?.info?.max_payload ?? 0);
    if (fits && sendTextFrames(this.conn.nc, this.sink, `PUB ${subject} ${this.prefix}.${token} ${size}\r\n${body}\r\n`, 1, size)) return;
    this.send(token, subject, encoder.encode(body), [...w.bySubject.values()].flat(), w.key);
  }

  /**
   * After a reconnect, sends again every lookup and record still waiting: what was on the wire
   * when the connection dropped (a server restart) gets no answer, and both are safe to repeat
   * (a record written twice is one more revision of the same marker; an answer that comes twice
   * finds its token gone). Without this they would wait for the sweep's `timeoutMs`.
   */
  private resendWaiting(): void {
    const now = Date.now();
    const all = [...this.waiting];
    this.waiting.clear();
    const records: PendingRecord[] = [];
    for (const [token, w] of all) {
      w.at = now; // re-inserted in the same order: insertion order stays time order for the sweep
      this.waiting.set(token, w);
      if ("bySubject" in w) this.writeLookup(token, w);
      else records.push(w);
    }
    if (records.length > 0) this.writeRecords(records);
  }

  private async watchReconnects(): Promise<void> {
    const status = this.conn.nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.status = status;
    try {
      for await (const s of status) if (s.type === "reconnect") this.resendWaiting();
    } catch {
      // the connection closed
    }
  }

  private send(token: number, subject: string, data: Uint8Array, callers: Caller[], key: string): void {
    try {
      this.conn.nc.publish(subject, data, { reply: `${this.prefix}.${token}` });
    } catch (err) {
      this.waiting.delete(token);
      const e = this.error(key, (err as Error).message, err);
      for (const c of callers) c(e);
    }
  }

  private answer(err: Error | null, msg: Msg): void {
    if (err) {
      this.fail(err);
      return;
    }
    const token = tokenOf(msg, this.prefix.length + 1);
    const w = this.waiting.get(token);
    if (!w) return;
    const code = msg.headers?.code ?? 0;
    if ("bySubject" in w) {
      if (code === 0) {
        // One key the server holds: done unless its last entry is a delete or purge marker.
        const subject = msg.headers?.get("Nats-Subject") ?? "";
        const callers = w.bySubject.get(subject);
        if (!callers) return;
        w.bySubject.delete(subject);
        const op = msg.headers?.get("KV-Operation");
        answerAll(callers, op !== "DEL" && op !== "PURGE");
        return;
      }
      this.waiting.delete(token);
      // 204 end of batch, 404 none of the keys: the rest are not recorded (never written, or expired).
      if (code === 204 || code === 404) {
        for (const callers of w.bySubject.values()) answerAll(callers, false);
      } else {
        const e = this.error(w.key, `${code} ${msg.headers?.description ?? ""}`);
        for (const callers of w.bySubject.values()) answerAll(callers, e);
      }
      return;
    }
    this.waiting.delete(token);
    if (code !== 0) {
      w.caller(this.error(w.key, `${code} ${msg.headers?.description ?? ""}`));
      return;
    }
    // A publish acknowledgement: {"stream":..,"seq":..} or {"error":{..}} (read as text only then).
    if (mentionsError(msg.data)) w.caller(this.error(w.key, decoder.decode(msg.data)));
    else w.caller(true);
  }

  private sweep(): void {
    const old = Date.now() - this.timeoutMs;
    for (const [token, w] of this.waiting) {
      if (w.at > old) break; // insertion order is time order
      this.waiting.delete(token);
      this.rejectAll(w, this.error(w.key, `no answer within ${this.timeoutMs} ms`));
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) this.rejectAll(w, this.error(w.key, err.message, err));
    this.waiting.clear();
    const keys = this.getKeys;
    const callers = this.getCallers;
    const puts = this.puts;
    this.getKeys = [];
    this.getCallers = [];
    this.puts = [];
    keys.forEach((key, i) => callers[i]!(this.error(key, err.message, err)));
    for (const p of puts) p.caller(this.error(p.key, err.message, err));
  }

  private rejectAll(w: Waiter, e: ChronicleError): void {
    if ("bySubject" in w) {
      for (const callers of w.bySubject.values()) answerAll(callers, e);
    } else {
      w.caller(e);
    }
  }

  private error(key: string, why: string, cause?: unknown): ChronicleError {
    return new ChronicleError(ErrorCode.Unavailable, `idempotency store ${this.bucket}: no answer for ${key}: ${why}`, {
      ...(cause !== undefined ? { cause } : {}),
      context: { bucket: this.bucket, key },
    });
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
 * Lookups (direct gets of the key's last value) and records (publishes to the
 * key's subject, acknowledged by the server) are pipelined over the
 * connection: callers may have thousands in flight, each costs one message
 * each way and no timer. A bucket without direct gets falls back to `kv.get`.
 */
export async function createKvIdempotencyStore(
  conn: ChronicleConnection,
  options: KvIdempotencyStoreOptions = {},
): Promise<IdempotencyStore & { readonly bucket: string }> {
  const bucket = options.bucket ?? `chronicle_idem_${options.stream ?? "default"}`;
  const kvm = new Kvm(conn.js);
  let kv: KV;
  try {
    kv = await kvm.create(bucket, { history: 1, ttl: options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS, replicas: options.replicas ?? 1 });
  } catch (createErr) {
    try {
      kv = await kvm.open(bucket);
      await kv.status();
    } catch {
      throw new ChronicleError(ErrorCode.Unavailable, `cannot open idempotency bucket ${bucket}: ${(createErr as Error).message}`, { cause: createErr });
    }
  }
  const status = await kv.status();
  const direct = status.streamInfo.config.allow_direct === true;
  const pipe = new KvPipe(conn, bucket, options.timeoutMs ?? 5000);
  const ops: StoreOps = {
    lookup(key, answer) {
      if (direct) pipe.get(key, answer);
      else
        kv.get(key).then(
          (e) => answer(e !== null && e.operation === "PUT"),
          (err: unknown) => answer(err instanceof Error ? err : new Error(String(err))),
        );
    },
    record: (key, answer) => pipe.put(key, answer),
  };
  const promised = (op: StoreOps["lookup"], key: string) =>
    new Promise<boolean>((resolve, reject) => op(key, (r) => (r instanceof Error ? reject(r) : resolve(r))));
  const store = {
    bucket,
    [STORE_OPS]: ops,
    isDone: (key: string) => promised(ops.lookup, key),
    markDone: (key: string): Promise<void> => promised(ops.record, key).then(() => undefined),
    close() {
      pipe.close();
      return Promise.resolve();
    },
  };
  return store;
}
