import { create } from "@bufbuild/protobuf";
import type { StoredMsg } from "@nats-io/jetstream";
import { Headers, keyFromToken, keyToken, layout, partitionOf, readPartitionKey, type ChronicleConnection } from "@chronicle/runtime";
import { BrowsedEventSchema, type BrowsedEvent, type BrowseMessagesRequest, type BrowseMessagesResponse } from "../../gen/chronicle/console/v1/console_pb.js";
import { invalidArgument } from "../connect-errors.js";
import { partitionsOf } from "../streams-source.js";
import type { SchemaDecoder } from "./schema-decoder.js";

/** Limits of one page's scan: when the filters the server cannot apply drop most events, a page stops here and says so. */
export interface ScanBudget {
  /** Stored events read at most; default 20,000. */
  maxScanned: number;
  /** Time spent at most, ms; default 300. */
  maxMs: number;
}

const DEFAULT_BUDGET: ScanBudget = { maxScanned: 20_000, maxMs: 300 };
/** Events asked of the server at once. */
const BATCH = 1000;
const EVENT_NAME = /^[A-Za-z0-9_]+$/;

/** A browse request checked and turned into a subject filter and the filters the console applies. */
interface Plan {
  stream: string;
  /** `next_by_subj` of direct gets; undefined for every event. */
  subject: string | undefined;
  limit: number;
  /** Filters the server cannot apply: a full type, the exact key, a header, an end time. */
  accept: (m: StoredMsg, headers: Record<string, string>) => boolean;
  untilNs: number;
  postFiltered: boolean;
}

/** Headers a direct get adds to say where the message is stored; not the event's own. */
const DIRECT_GET_HEADERS = new Set([
  "nats-stream",
  "nats-sequence",
  "nats-time-stamp",
  "nats-subject",
  "nats-last-sequence",
  "nats-num-pending",
  "nats-upto-sequence",
]);

function headerRecord(m: StoredMsg): Record<string, string> {
  const out: Record<string, string> = {};
  if (m.header) for (const k of m.header.keys()) if (!DIRECT_GET_HEADERS.has(k.toLowerCase())) out[k] = m.header.get(k);
  return out;
}

function timeNs(value: string, field: string): number {
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw invalidArgument(field, `not a time: ${JSON.stringify(value)} (use RFC 3339, e.g. 2026-01-31T12:00:00Z)`);
  return t.getTime() * 1e6;
}

function keyOf(subject: string, headers: Record<string, string>): string {
  const parsed = layout.parseStored(subject);
  return readPartitionKey(headers) ?? (parsed ? keyFromToken(parsed.keyToken) : undefined) ?? parsed?.keyToken ?? "";
}

/**
 * Checks a request and plans its reads. `partitions` is the stream's
 * partition count: a key's partition is a function of the key, so a key
 * filter names its partition and the server looks in one branch of its
 * subject index instead of matching every partition's subjects.
 */
export function planBrowse(req: BrowseMessagesRequest, partitions = 0): Plan {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(req.stream)) throw invalidArgument("stream", `not a stream name: ${JSON.stringify(req.stream)}`);
  const limit = req.limit === 0 ? 100 : req.limit;
  if (limit < 1 || limit > 500) throw invalidArgument("limit", `must be 1..500, got ${req.limit}`);
  const asked = req.partition === undefined || req.partition < 0 ? undefined : req.partition;
  const partition = asked ?? (req.key !== "" && partitions > 0 ? partitionOf(req.key, partitions) : undefined);
  const byName = req.event !== "" && EVENT_NAME.test(req.event);
  const byType = req.event !== "" && !byName;
  const untilNs = req.untilTime ? timeNs(req.untilTime, "until_time") : Infinity;
  const subject =
    partition === undefined && !byName && req.key === ""
      ? undefined
      : `${req.stream}.${partition ?? "*"}.${byName ? req.event : "*"}.${req.key === "" ? "*" : keyToken(req.key)}`;
  const header = req.headerName.toLowerCase();
  const accept = (m: StoredMsg, h: Record<string, string>) => {
    if (byType && h[Headers.Type] !== req.event) return false;
    // a hashed key token is shared by every key with the same digest: compare the key itself
    if (req.key !== "" && keyOf(m.subject, h) !== req.key) return false;
    if (header) {
      const name = Object.keys(h).find((k) => k.toLowerCase() === header);
      if (name === undefined || (req.headerValue !== "" && h[name] !== req.headerValue)) return false;
    }
    return true;
  };
  return { stream: req.stream, subject, limit, accept, untilNs, postFiltered: byType || header !== "" || untilNs !== Infinity };
}

interface ScanResult {
  matches: StoredMsg[];
  /** The sequence after the last one read. */
  cursor: number;
  scanned: number;
  /** No event after `cursor` can match (end of stream, or past the end time). */
  ended: boolean;
  /** Stopped by the budget before the page filled. */
  partial: boolean;
}

/**
 * Reads forward from `start` (or `startTime`) with direct gets (batches of
 * stored messages, `next_by_subj` for the subject filter: no consumer of
 * any kind), applying the console's own filters, until `limit` matches,
 * the end (`lastSeq`, or `upTo` when given), or the budget.
 */
async function scanForward(
  conn: ChronicleConnection,
  plan: Plan,
  from: { seq: number } | { time: string },
  lastSeq: number,
  limit: number,
  deadline: number,
  maxScanned: number,
  upTo = Infinity,
): Promise<ScanResult> {
  const matches: StoredMsg[] = [];
  let cursor = "seq" in from ? from.seq : 0;
  let scanned = 0;
  let first = true;
  const end = Math.min(lastSeq, upTo);
  for (;;) {
    if (matches.length >= limit) return { matches, cursor, scanned, ended: cursor > end, partial: false };
    if (!first && cursor > end) return { matches, cursor, scanned, ended: true, partial: false };
    if (scanned >= maxScanned || Date.now() > deadline) return { matches, cursor, scanned, ended: false, partial: true };
    const want = plan.postFiltered ? BATCH : Math.min(BATCH, limit - matches.length);
    const opts = {
      batch: want,
      ...(first && "time" in from ? { start_time: from.time } : { seq: cursor }),
      ...(plan.subject ? { next_by_subj: plan.subject } : {}),
    };
    first = false;
    let got = 0;
    let stop = false;
    try {
      const batch = await conn.jsm.direct.getBatch(plan.stream, opts as never);
      for await (const m of batch) {
        if (m.seq > end) {
          stop = true;
          break;
        }
        got++;
        scanned++;
        cursor = m.seq + 1;
        if (m.timestamp && Date.parse(m.timestamp) * 1e6 > plan.untilNs) {
          stop = true;
          break;
        }
        if (plan.accept(m, headerRecord(m))) {
          matches.push(m);
          if (matches.length >= limit) break;
        }
      }
    } catch (err) {
      // "no message found": nothing matches from the cursor on
      if (!/404|no message|not found/i.test((err as Error).message)) throw err;
    }
    if (stop || got === 0) return { matches, cursor: Math.max(cursor, end + 1), scanned, ended: true, partial: false };
  }
}

/**
 * The newest matches of a key filter, newest first: a key is sparse (a few
 * events among millions), so instead of scanning back window by window the
 * server is asked for the last message of each matching subject up to a
 * sequence (`multi_last` with `up_to_seq`); the newest of those is certainly
 * the next one, and the next ask stops just before it. One request per
 * event, however far apart the key's events are.
 */
async function newestOfKey(conn: ChronicleConnection, plan: Plan, upTo: number, firstSeq: number, limit: number, deadline: number): Promise<ScanResult> {
  const matches: StoredMsg[] = [];
  let hi = upTo;
  let scanned = 0;
  while (matches.length < limit && hi >= firstSeq) {
    if (Date.now() > deadline) return { matches, cursor: hi, scanned, ended: false, partial: true };
    let newest: StoredMsg | undefined;
    try {
      const batch = await conn.jsm.direct.getLastMessagesFor(plan.stream, { multi_last: [plan.subject!], up_to_seq: hi });
      for await (const m of batch) if (!newest || m.seq > newest.seq) newest = m;
    } catch (err) {
      if (!/404|no message|not found/i.test((err as Error).message)) throw err;
    }
    if (!newest || newest.seq < firstSeq) break;
    scanned++;
    if (plan.accept(newest, headerRecord(newest)) && (!newest.timestamp || Date.parse(newest.timestamp) * 1e6 <= plan.untilNs)) matches.push(newest);
    hi = newest.seq - 1;
  }
  return { matches, cursor: hi, scanned, ended: true, partial: false };
}

/** A stored event before decoding: where it is, its headers and payload. */
export interface RawEvent {
  sequence: number;
  /** Stored subject, `S.<partition>.<EventName>.<keyToken>`. */
  subject: string;
  headers: Record<string, string>;
  data: Uint8Array;
  storedAt: Date;
}

/** The {@link RawEvent} of a message read with a direct get. */
export function rawEvent(m: StoredMsg): RawEvent {
  return { sequence: m.seq, subject: m.subject, headers: headerRecord(m), data: m.data, storedAt: m.time };
}

/** Turns a stored event into what the browser shows, decoded with its registered schema. */
export async function browsedEvent(m: RawEvent, decoder: SchemaDecoder): Promise<BrowsedEvent> {
  const headers = m.headers;
  const parsed = layout.parseStored(m.subject);
  const decoded = await decoder.decode(headers, m.data);
  const ceTime = headers[Headers.Time];
  return create(BrowsedEventSchema, {
    sequence: BigInt(m.sequence),
    subject: m.subject,
    partition: parsed?.partition ?? -1,
    eventName: parsed?.eventName ?? "",
    type: headers[Headers.Type] ?? "",
    key: keyOf(m.subject, headers),
    time: ceTime && !Number.isNaN(Date.parse(ceTime)) ? ceTime : m.storedAt.toISOString(),
    storedAt: m.storedAt.toISOString(),
    headers,
    schemaId: decoded.schemaId,
    schemaVersion: decoded.schemaVersion,
    json: decoded.json,
    decodeError: decoded.error,
    data: m.data,
  });
}

/**
 * One page of the message browser: `limit` stored events from a sequence,
 * a time or the newest end, filtered by partition, event and key through
 * the subject (the server skips what does not match) and by full type,
 * exact key, header and end time in the console, each event decoded with
 * its registered schema. Pages are read with direct gets, so a stream of
 * millions of events is never loaded: a page reads about as many events as
 * it shows, plus those the console's own filters drop, within a budget
 * (when it runs out, the page is `partial` and `next_sequence` continues).
 */
export async function browseMessages(
  conn: ChronicleConnection,
  decoder: SchemaDecoder,
  req: BrowseMessagesRequest,
  budget: ScanBudget = DEFAULT_BUDGET,
): Promise<Omit<BrowseMessagesResponse, "$typeName" | "$unknown">> {
  planBrowse(req);
  const info = await conn.jsm.streams.info(req.stream);
  const plan = planBrowse(req, partitionsOf(info));
  const { first_seq: firstSeq, last_seq: lastSeq, messages } = info.state;
  const deadline = Date.now() + budget.maxMs;
  const empty = {
    events: [],
    nextSequence: 0n,
    previousBefore: 0n,
    scanned: 0n,
    partial: false,
    firstSequence: BigInt(firstSeq),
    lastSequence: BigInt(lastSeq),
  };
  if (messages === 0) return empty;
  let matches: StoredMsg[];
  let scanned = 0;
  let partial = false;
  let next = 0;
  if ((req.newest || req.beforeSequence > 0n) && req.key !== "") {
    const upTo = req.beforeSequence > 0n ? Number(req.beforeSequence) - 1 : lastSeq;
    const r = await newestOfKey(conn, plan, Math.min(upTo, lastSeq), firstSeq, plan.limit, deadline);
    matches = r.matches.reverse();
    scanned = r.scanned;
    partial = r.partial;
    const lastShown = matches[matches.length - 1]?.seq ?? upTo;
    next = lastShown < lastSeq ? lastShown + 1 : 0;
  } else if (req.newest || req.beforeSequence > 0n) {
    // the newest page (before `before_sequence`): windows back from the end, each read forward, growing until the page fills
    const upTo = req.beforeSequence > 0n ? Number(req.beforeSequence) - 1 : lastSeq;
    let hi = Math.min(upTo, lastSeq);
    let window = plan.subject || plan.postFiltered ? BATCH : plan.limit;
    const found: StoredMsg[][] = [];
    let count = 0;
    while (hi >= firstSeq && count < plan.limit) {
      const lo = Math.max(firstSeq, hi - window + 1);
      const r = await scanForward(conn, plan, { seq: lo }, lastSeq, Infinity, deadline, budget.maxScanned - scanned, hi);
      scanned += r.scanned;
      found.unshift(r.matches);
      count += r.matches.length;
      if (r.partial) {
        partial = true;
        break;
      }
      hi = lo - 1;
      window = Math.min(window * 4, 100_000);
    }
    matches = found.flat().slice(-plan.limit);
    const lastShown = matches[matches.length - 1]?.seq ?? upTo;
    next = lastShown < lastSeq ? lastShown + 1 : 0;
  } else {
    const from = req.fromTime
      ? { time: new Date(timeNs(req.fromTime, "from_time") / 1e6).toISOString() }
      : { seq: Math.max(Number(req.fromSequence), firstSeq) };
    const r = await scanForward(conn, plan, from, lastSeq, plan.limit, deadline, budget.maxScanned);
    matches = r.matches;
    scanned = r.scanned;
    partial = r.partial;
    next = r.ended ? 0 : r.cursor;
  }
  const firstShown = matches[0]?.seq ?? 0;
  const events = await Promise.all(matches.map((m) => browsedEvent(rawEvent(m), decoder)));
  return {
    events,
    nextSequence: BigInt(next),
    previousBefore: BigInt(firstShown > firstSeq ? firstShown : 0),
    scanned: BigInt(scanned),
    partial,
    firstSequence: BigInt(firstSeq),
    lastSequence: BigInt(lastSeq),
  };
}
