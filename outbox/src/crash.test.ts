// Crash tests with real databases and a real nats-server: processes are
// SIGKILLed at random points, then the stream and the database are checked.
// Scaled to the test budget (2 cores shared with other suites): see the
// constants below and docs/outbox.md.
import BetterSqlite3 from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, createProducer, ensureStream, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalPostgres, startLocalServer, type LocalPostgres, type LocalServer } from "@chronicle/testing";
import { createOutbox, type PgOutbox, type SqliteOutbox } from "./index.js";
import { startChild } from "./testing/child-process.js";
import { readAll, testStream } from "./testing/test-stream.js";

const OUTBOX_ROUNDS = Number(process.env["CHRONICLE_OUTBOX_ROUNDS"] ?? 12);
// Most a round may write: SQLite writes several times faster, so it gets more, for kills to land mid-way
const OUTBOX_EVENTS_BY_KIND = {
  sqlite: Number(process.env["CHRONICLE_OUTBOX_EVENTS"] ?? 24_000),
  postgres: Number(process.env["CHRONICLE_OUTBOX_EVENTS"] ?? 12_000),
};
const INBOX_ROUNDS = Number(process.env["CHRONICLE_INBOX_ROUNDS"] ?? 6);
// SQLite handles events several times faster than PostgreSQL: more of them, so that kills land mid-way
const INBOX_EVENTS_BY_KIND = {
  sqlite: Number(process.env["CHRONICLE_INBOX_EVENTS"] ?? 10_000),
  postgres: Number(process.env["CHRONICLE_INBOX_EVENTS"] ?? 4000),
};
const KEYS = 40;

let nats: LocalServer;
let conn: ChronicleConnection;
let postgres: LocalPostgres;
let dir: string;

beforeAll(async () => {
  [nats, postgres] = await Promise.all([startLocalServer(), startLocalPostgres()]);
  conn = await connect({ servers: nats.url });
  dir = mkdtempSync(join(tmpdir(), "chronicle-outbox-crash-"));
});
afterAll(async () => {
  await conn?.close();
  await Promise.all([nats?.stop(), postgres?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function database(kind: "sqlite" | "postgres", name: string): Promise<string> {
  return kind === "sqlite" ? join(dir, `${name}.db`) : postgres.createDatabase(name);
}

async function query<T>(kind: "sqlite" | "postgres", db: string, sql: string): Promise<T[]> {
  if (kind === "sqlite") {
    const d = new BetterSqlite3(db, { readonly: true });
    try {
      return d.prepare(sql).all() as T[];
    } finally {
      d.close();
    }
  }
  const c = new pg.Client({ connectionString: db });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Every key's events in the stream must be exactly 1..n of the committed business rows, in order. */
function expectExactlyCommitted(events: { key: string; n: number }[], committed: { key: string; n: number }[]): void {
  const want = new Map<string, number[]>();
  for (const r of committed) want.set(r.key, [...(want.get(r.key) ?? []), Number(r.n)]);
  const got = new Map<string, number[]>();
  for (const e of events) got.set(e.key, [...(got.get(e.key) ?? []), e.n]);
  for (const [k, ns] of want) ns.sort((a, b) => a - b);
  expect(events.length).toBe(committed.length);
  expect(new Set(got.keys())).toEqual(new Set(want.keys()));
  for (const [k, ns] of want) {
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1)); // the business side is gapless
    expect(got.get(k), `events of ${k}`).toEqual(ns);
  }
}

describe.each(["sqlite", "postgres"] as const)("crashes on %s", (kind) => {
  it(
    `a writer+relay process SIGKILLed ${OUTBOX_ROUNDS} times: the stream holds each committed event once, in commit order per key`,
    { timeout: 180_000 },
    async () => {
      const name = `crash_out_${kind}`;
      const def = testStream({ name, partitions: 4 });
      await ensureStream(conn, def);
      const db = await database(kind, "crash_out");
      const quota = Math.ceil(OUTBOX_EVENTS_BY_KIND[kind] / OUTBOX_ROUNDS);
      const writers = kind === "postgres" ? "3" : "1";
      let kills = 0;
      // A first round runs to its end: how long a round takes on this machine, so that the kills
      // of the others land mid-way however fast the database is today.
      let roundMs = 0;
      for (let round = 0; round <= OUTBOX_ROUNDS; round++) {
        const child = startChild(["writer", db, nats.url, name, String(quota), String(KEYS), writers]);
        await child.ready;
        const started = Date.now();
        if (round === 0) {
          await child.done;
          roundMs = Date.now() - started;
          await child.kill();
          continue;
        }
        // kill somewhere in the writes, the relay's publishes or its deletes
        const finished = await Promise.race([child.done.then(() => true), sleep(Math.random() * roundMs * 0.9).then(() => false)]);
        if (!finished) kills++;
        await child.kill();
      }
      const last = startChild(["writer", db, nats.url, name, "0", String(KEYS), "1"]);
      await last.done;
      await last.kill();
      const committed = await query<{ key: string; n: number }>(kind, db, "SELECT key, n FROM biz");
      expect(committed.length).toBeGreaterThan(0);
      expectExactlyCommitted(await readAll(conn, def), committed);
      expect(kills).toBeGreaterThanOrEqual(OUTBOX_ROUNDS / 2);
      console.info(`outbox crash ${kind}: ${committed.length} committed events, ${kills} of ${OUTBOX_ROUNDS} writer+relay processes SIGKILLed mid-way`);
    },
  );

  it(`a consumer with the SQL inbox SIGKILLed ${INBOX_ROUNDS} times: every effect exactly once`, { timeout: 180_000 }, async () => {
    const INBOX_EVENTS = INBOX_EVENTS_BY_KIND[kind];
    const name = `crash_in_${kind}`;
    const def = testStream({ name, partitions: 4 });
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    const perKey = new Map<string, number>();
    await producer.publishBatch(
      Array.from({ length: INBOX_EVENTS }, (_, i) => {
        const key = `key-${i % KEYS}`;
        const n = (perKey.get(key) ?? 0) + 1;
        perKey.set(key, n);
        return { name: "Changed" as const, event: { key, n: BigInt(n) } };
      }),
    );
    await producer.close();
    const db = await database(kind, "crash_in");
    let reader: BetterSqlite3.Database | undefined;
    const count = async () => {
      if (kind === "sqlite") {
        try {
          reader ??= new BetterSqlite3(db, { readonly: true, fileMustExist: true });
          return (reader.prepare("SELECT count(*) AS c FROM effects").get() as { c: number }).c;
        } catch {
          return 0; // not created yet
        }
      }
      return Number((await query<{ c: number }>(kind, db, "SELECT count(*) AS c FROM effects").catch(() => [{ c: 0 }]))[0]!.c);
    };
    let kills = 0;
    for (let round = 0; round < INBOX_ROUNDS; round++) {
      const before = await count();
      if (before >= INBOX_EVENTS) break;
      const child = startChild(["consumer", db, nats.url, name, "g"]);
      await child.ready;
      // kill at a random point of its progress (failover of the dead member's partitions comes first)
      const target = Math.min(INBOX_EVENTS, before + 1 + Math.floor((Math.random() * (INBOX_EVENTS - before)) / (INBOX_ROUNDS - round + 1)));
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (await count()) < target) await sleep(5);
      if (process.env["CHRONICLE_OUTBOX_DEBUG"]) console.info(`round ${round}: before ${before} target ${target} at kill ${await count()}`);
      if (Date.now() >= deadline)
        console.info(`inbox crash ${kind} round ${round}: no progress to ${target} in 15 s (at ${await count()}):\n${child.output().slice(-1500)}`);
      if ((await count()) < INBOX_EVENTS) kills++;
      await child.kill();
    }
    const last = startChild(["consumer", db, nats.url, name, "g"]);
    await last.ready;
    const deadline = Date.now() + 120_000;
    while ((await count()) < INBOX_EVENTS && Date.now() < deadline) await sleep(200);
    await sleep(500); // a duplicate effect would show up now
    await last.kill();
    reader?.close();
    const effects = await query<{ key: string; n: number }>(kind, db, "SELECT key, n FROM effects");
    expect(effects.length).toBe(INBOX_EVENTS);
    expect(new Set(effects.map((e) => `${e.key}/${e.n}`)).size).toBe(INBOX_EVENTS);
    const totals = await query<{ key: string; count: number; sum: number }>(kind, db, "SELECT key, count, sum FROM totals");
    for (const t of totals) {
      const n = perKey.get(t.key)!;
      expect(Number(t.count)).toBe(n);
      expect(Number(t.sum)).toBe((n * (n + 1)) / 2);
    }
    expect(kills).toBeGreaterThanOrEqual(INBOX_ROUNDS / 2);
    console.info(`inbox crash ${kind}: ${INBOX_EVENTS} events, ${kills} of ${INBOX_ROUNDS} consumers SIGKILLed while handling`);
  });

  it("two relays running at once publish every row once, in order per key (no dedup window to hide a double publish)", { timeout: 120_000 }, async () => {
    const name = `two_relays_${kind}`;
    const def = testStream({ name, partitions: 4, duplicateWindowMs: 100 });
    await ensureStream(conn, def);
    const db = await database(kind, "two_relays");
    const opened =
      kind === "sqlite"
        ? (() => {
            const d = new BetterSqlite3(db);
            d.pragma("journal_mode = WAL");
            d.pragma("busy_timeout = 10000");
            return { outbox: createOutbox(d) as SqliteOutbox | PgOutbox, close: async () => void d.close() };
          })()
        : (() => {
            const pool = new pg.Pool({ connectionString: db, max: 4 });
            pool.on("error", () => undefined);
            return { outbox: createOutbox(pool) as SqliteOutbox | PgOutbox, close: () => pool.end() };
          })();
    const { outbox } = opened;
    await outbox.migrate();
    const relays = [startChild(["relay", db, nats.url, name]), startChild(["relay", db, nats.url, name])];
    await Promise.all(relays.map((r) => r.ready));
    const total = 3000;
    const counters = new Map<string, number>();
    for (let i = 0; i < total; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => {
        const key = `key-${(i + j) % KEYS}`;
        const n = (counters.get(key) ?? 0) + 1;
        counters.set(key, n);
        return { key, n };
      });
      if (outbox.dialect === "sqlite") {
        const d = outbox.db as BetterSqlite3.Database;
        const p = (outbox as SqliteOutbox).producer(def);
        d.transaction(() => {
          for (const b of batch) p.publish(d, "Changed", { key: b.key, n: BigInt(b.n) });
        }).immediate();
      } else {
        const client = await (outbox.db as pg.Pool).connect();
        const p = (outbox as PgOutbox).producer(def);
        await client.query("BEGIN");
        for (const b of batch) await p.publish(client, "Changed", { key: b.key, n: BigInt(b.n) });
        await client.query("COMMIT");
        client.release();
      }
      if (i % 500 === 0) await sleep(5);
    }
    const deadline = Date.now() + 60_000;
    while ((await outbox.status()).pending > 0 && Date.now() < deadline) await sleep(50);
    await sleep(300);
    await Promise.all(relays.map((r) => r.kill()));
    const published = relays.map((r) => Number([...r.output().matchAll(/published (\d+)/g)].at(-1)?.[1] ?? 0));
    expect(published[0]! + published[1]!).toBe(total);
    // PostgreSQL relays share the key slots; on SQLite one holds the lease
    if (kind === "postgres") expect(Math.min(...published)).toBeGreaterThan(0);
    else expect(Math.min(...published)).toBe(0);
    await opened.close();
    const committed = [...counters].flatMap(([key, n]) => Array.from({ length: n }, (_, i) => ({ key, n: i + 1 })));
    expectExactlyCommitted(await readAll(conn, def), committed);
  });
});
