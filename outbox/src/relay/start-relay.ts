import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { ChronicleError, ErrorCode, type ChronicleConnection } from "@chronicle/runtime";
import type { PgPool, SqliteDatabase } from "../sql/database.js";
import { RELAY_SLOTS } from "../outbox/encode-row.js";
import type { PgOutbox, SqliteOutbox } from "../outbox/create-outbox.js";
import { RowPublisher } from "./publish-rows.js";
import { pgSession, sqliteSession, type RelaySession } from "./sessions.js";

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** Rows read per batch; default 2000. */
  batchSize?: number;
  /** Publishes in flight at once (distinct keys; a key has at most one); default 2000. */
  maxInFlight?: number;
  /** Wait between polls when the outbox is empty, ms; default 50. */
  pollIntervalMs?: number;
  /** Wait for one acknowledgement before the row is retried in a later batch, ms; default 5000. */
  ackTimeoutMs?: number;
  /** Wait after a failed batch (NATS or database unavailable), ms; default 500. */
  retryDelayMs?: number;
  /** SQLite: how long the relay lease lasts without renewal, ms; default 10 000. */
  leaseMs?: number;
  /** PostgreSQL: most key slots (of 64) this relay holds; default all of its share. */
  maxSlots?: number;
  /** PostgreSQL: how often to look for free slots and rebalance, ms; default 1000. */
  claimIntervalMs?: number;
  /**
   * Relay name in the SQLite lease; default `<host>-<pid>-<random>`. Give each
   * replica a stable name (a pod name) so that a restarted relay takes its
   * lease back at once instead of waiting for it to expire.
   */
  owner?: string;
  /** Called with errors the relay recovers from by retrying; default prints to stderr. */
  onError?: (err: unknown) => void;
}

/** Counters of a relay since it started. */
export interface RelayStats {
  /** Rows acknowledged by the stream and deleted. */
  published: number;
  /** Of those, rows the stream already had (a retry after a crash, or another relay). */
  duplicates: number;
  /** Batches that hit an error. */
  failedBatches: number;
}

/** A running relay. `await using relay = await startRelay(...)` stops it. */
export interface Relay extends AsyncDisposable {
  readonly owner: string;
  stats(): RelayStats;
  /** Resolves once a poll found nothing for this relay to publish (after everything committed before the call was relayed, when it holds every key). */
  idle(timeoutMs?: number): Promise<void>;
  /** Finishes the batch in flight, deletes its acknowledged rows and gives up its lease or slots. */
  stop(): Promise<void>;
}

/**
 * Waits `ms`, or less when `signal` aborts. The abort listener is removed
 * when the time is up: the relay sleeps every poll, so a listener left on
 * the long-lived signal per sleep would pile up without bound.
 */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Starts a relay: it reads the outbox in `seq` order, publishes each row to
 * its subject with the row's dedup key as `Nats-Msg-Id`, and deletes the rows
 * the stream acknowledged. Per key, a row is published only after the one
 * before it was acknowledged, so events reach the stream in commit order per
 * key. A crash between the acknowledgement and the delete publishes the row
 * again at restart, and the stream drops it as a duplicate as long as this
 * happens within the stream's duplicate window (default 2 minutes).
 *
 * Several relays may run at once: on SQLite one holds a lease and the others
 * wait; on PostgreSQL they share 64 key slots through advisory locks, so a
 * key is published by one relay at a time and a dead relay's slots move to
 * the others.
 */
export async function startRelay(outbox: SqliteOutbox | PgOutbox, conn: ChronicleConnection, options: RelayOptions = {}): Promise<Relay> {
  const batchSize = options.batchSize ?? 2000;
  const maxInFlight = options.maxInFlight ?? 2000;
  const pollMs = options.pollIntervalMs ?? 50;
  const retryMs = options.retryDelayMs ?? 500;
  const owner = options.owner ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const onError = options.onError ?? ((err: unknown) => console.error(`chronicle outbox relay ${owner}:`, err));
  const open = (): Promise<RelaySession> =>
    outbox.dialect === "sqlite"
      ? Promise.resolve(sqliteSession(outbox.db as SqliteDatabase, outbox.tables, owner, options.leaseMs ?? 10_000))
      : pgSession(outbox.db as PgPool, outbox.tables, options.maxSlots ?? RELAY_SLOTS, options.claimIntervalMs ?? 1000);
  const publisher = new RowPublisher(conn.nc, options.ackTimeoutMs ?? 5000);
  const stats: RelayStats = { published: 0, duplicates: 0, failedBatches: 0 };
  const abort = new AbortController();
  const idleWaiters: (() => void)[] = [];
  let session: RelaySession | undefined;

  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        session ??= await open();
        const rows = (await session.claim()) ? await session.fetch(batchSize) : [];
        if (rows.length === 0) {
          for (const w of idleWaiters.splice(0)) w();
          await sleep(pollMs, abort.signal);
          continue;
        }
        const outcome = await publisher.publishBatch(rows, maxInFlight);
        if (outcome.acked.length > 0) await session.remove(outcome.acked);
        stats.published += outcome.acked.length;
        stats.duplicates += outcome.duplicates;
        if (outcome.error) {
          stats.failedBatches++;
          onError(outcome.error);
          await sleep(retryMs, abort.signal);
        }
      } catch (err) {
        stats.failedBatches++;
        if (!abort.signal.aborted) onError(err);
        await session?.close(true).catch(() => undefined);
        session = undefined;
        await sleep(retryMs, abort.signal);
      }
    }
  };
  const running = loop();
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      abort.abort();
      await running;
      await session?.close().catch(() => undefined);
      publisher.close();
      for (const w of idleWaiters.splice(0)) w();
    })();
    return stopping;
  };
  return {
    owner,
    stats: () => ({ ...stats }),
    idle(timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new ChronicleError(ErrorCode.Timeout, `relay ${owner} not idle after ${timeoutMs} ms`)), timeoutMs);
        idleWaiters.push(() => (clearTimeout(t), resolve()));
      });
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
