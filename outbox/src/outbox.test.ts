import BetterSqlite3 from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, ensureStream, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalPostgres, startLocalServer, type LocalPostgres, type LocalServer } from "@chronicle/testing";
import {
  createInbox,
  createOutbox,
  startRelay,
  withInbox,
  type OutboxDatabase,
  type PgInbox,
  type SqliteInbox,
  type SqliteOutbox,
  type PgOutbox,
} from "./index.js";
import { readAll, testStream } from "./testing/test-stream.js";

let nats: LocalServer;
let conn: ChronicleConnection;
let postgres: LocalPostgres;
let dir: string;
let dbCount = 0;

beforeAll(async () => {
  [nats, postgres] = await Promise.all([startLocalServer(), startLocalPostgres()]);
  conn = await connect({ servers: nats.url });
  dir = mkdtempSync(join(tmpdir(), "chronicle-outbox-test-"));
});
afterAll(async () => {
  await conn?.close();
  await Promise.all([nats?.stop(), postgres?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

type Db = { db: OutboxDatabase; close(): Promise<void>; exec(sql: string): Promise<void> };

async function openDb(kind: "sqlite" | "postgres"): Promise<Db> {
  const name = `t${++dbCount}`;
  if (kind === "sqlite") {
    const db = new BetterSqlite3(join(dir, `${name}.db`));
    db.pragma("journal_mode = WAL");
    return { db, close: async () => void db.close(), exec: async (sql) => void db.exec(sql) };
  }
  const pool = new pg.Pool({ connectionString: await postgres.createDatabase(name), max: 6 });
  pool.on("error", () => undefined); // idle clients dropped when the server stops
  return { db: pool, close: () => pool.end(), exec: async (sql) => void (await pool.query(sql)) };
}

describe("relay", () => {
  it("keeps rows while the stream does not exist, reports it, and publishes them once it does", async () => {
    const def = testStream({ name: "ob_late_stream", partitions: 2 });
    const d = await openDb("sqlite");
    const outbox = createOutbox(d.db as BetterSqlite3.Database);
    await outbox.migrate();
    const db = d.db as BetterSqlite3.Database;
    db.transaction(() => outbox.producer(def).bind(db).publishChanged({ key: "a", n: 1n }))();
    const errors: unknown[] = [];
    const relay = await startRelay(outbox, conn, { pollIntervalMs: 10, retryDelayMs: 100, onError: (e) => errors.push(e) });
    await new Promise((r) => setTimeout(r, 500));
    expect((await outbox.status()).pending).toBe(1);
    expect(errors.length).toBeGreaterThan(0);
    expect(relay.stats().failedBatches).toBeGreaterThan(0);
    await ensureStream(conn, def);
    await relay.idle();
    await relay.stop();
    expect((await outbox.status()).pending).toBe(0);
    expect((await readAll(conn, def)).map((e) => e.n)).toEqual([1]);
    await d.close();
  });
});

describe.each(["sqlite", "postgres"] as const)("outbox on %s", (kind) => {
  it("publishes committed events in order per key with CloudEvents headers and the row's dedup key; rolled-back ones never", async () => {
    const def = testStream({ name: `ob_${kind}_1`, partitions: 4 });
    await ensureStream(conn, def);
    const d = await openDb(kind);
    const outbox = createOutbox(d.db);
    await outbox.migrate();
    await d.exec("CREATE TABLE items (k TEXT, n INTEGER)");
    const producer = outbox.producer(def);
    const write = async (k: string, n: number, commit: boolean) => {
      if (outbox.dialect === "sqlite") {
        const db = d.db as BetterSqlite3.Database;
        try {
          db.transaction(() => {
            db.prepare("INSERT INTO items VALUES (?, ?)").run(k, n);
            (producer.publish as (tx: unknown, ...a: unknown[]) => unknown)(db, "Changed", { key: k, n: BigInt(n) }, { headers: { "x-test": "1" } });
            if (!commit) throw new Error("rollback");
          })();
        } catch (err) {
          if (commit) throw err;
        }
      } else {
        const client = await (d.db as pg.Pool).connect();
        await client.query("BEGIN");
        await client.query("INSERT INTO items VALUES ($1, $2)", [k, n]);
        await (producer.publish as (tx: unknown, ...a: unknown[]) => Promise<unknown>)(
          client,
          "Changed",
          { key: k, n: BigInt(n) },
          { headers: { "x-test": "1" } },
        );
        await client.query(commit ? "COMMIT" : "ROLLBACK");
        client.release();
      }
    };
    for (let n = 1; n <= 30; n++) await write(`k${n % 3}`, n, n % 5 !== 0);
    expect((await outbox.status()).pending).toBe(24);
    const relay = await startRelay(outbox, conn, { pollIntervalMs: 10 });
    await relay.idle();
    await relay.stop();
    expect((await outbox.status()).pending).toBe(0);
    const events = await readAll(conn, def);
    const committed = Array.from({ length: 30 }, (_, i) => i + 1).filter((n) => n % 5 !== 0);
    expect(events.map((e) => e.n).sort((a, b) => a - b)).toEqual(committed);
    for (const k of ["k0", "k1", "k2"]) {
      expect(events.filter((e) => e.key === k).map((e) => e.n)).toEqual(committed.filter((n) => `k${n % 3}` === k));
    }
    const h = events[0]!.headers;
    expect(h["ce-type"]).toBe("outboxtest.v1.Changed");
    expect(h["ce-specversion"]).toBe("1.0");
    expect(h["ce-source"]).toBe(`/chronicle/${def.settings.name}`);
    expect(h["ce-dataschema"]).toBe("chronicle:outboxtest-1");
    expect(h["content-type"]).toBe("application/protobuf");
    expect(h["ce-partitionkey"]).toBe("k1");
    expect(h["x-test"]).toBe("1");
    expect(h["Nats-Msg-Id"]).toBe(h["ce-id"]);
    await d.close();
  });

  it("publishBatch enqueues many events in one call, in order per key", async () => {
    const def = testStream({ name: `ob_${kind}_batch`, partitions: 4 });
    await ensureStream(conn, def);
    const d = await openDb(kind);
    const outbox = createOutbox(d.db);
    await outbox.migrate();
    const items = Array.from({ length: 60 }, (_, i) => ({ name: "Changed" as const, event: { key: `k${i % 4}`, n: BigInt(i) } }));
    let receipts: { seq: number }[];
    if (outbox.dialect === "sqlite") {
      const db = d.db as BetterSqlite3.Database;
      receipts = db.transaction(() => (outbox as SqliteOutbox).producer(def).publishBatch(db, items))();
      // the typed per-event methods of a bound producer, named like the generated ones
      db.transaction(() => (outbox as SqliteOutbox).producer(def).bind(db).publishChanged({ key: "k0", n: 1000n }))();
    } else {
      const client = await (d.db as pg.Pool).connect();
      await client.query("BEGIN");
      receipts = await (outbox as PgOutbox).producer(def).publishBatch(client, items);
      await (outbox as PgOutbox).producer(def).bind(client).publishChanged({ key: "k0", n: 1000n });
      await client.query("COMMIT");
      client.release();
    }
    expect(receipts.map((r) => r.seq)).toEqual([...receipts.map((r) => r.seq)].sort((a, b) => a - b));
    const relay = await startRelay(outbox, conn, { pollIntervalMs: 10 });
    await relay.idle();
    await relay.stop();
    const events = await readAll(conn, def);
    for (let k = 0; k < 4; k++) {
      const want = items.filter((_, i) => i % 4 === k).map((it) => Number(it.event.n));
      expect(events.filter((e) => e.key === `k${k}`).map((e) => e.n)).toEqual(k === 0 ? [...want, 1000] : want);
    }
    await d.close();
  });

  it("an inbox-wrapped handler commits its effect and its record together, once", async () => {
    const d = await openDb(kind);
    const inbox: SqliteInbox | PgInbox = createInbox(d.db as never, { consumer: "g1" });
    await inbox.migrate();
    await d.exec("CREATE TABLE effects (k TEXT PRIMARY KEY)");
    const ctx = (key: string) => ({ idempotencyKey: key, stream: "s", sequence: 1 }) as never;
    const handler =
      kind === "sqlite"
        ? withInbox(
            inbox as never,
            (_e: unknown, c: { idempotencyKey: string }, tx: BetterSqlite3.Database) => void tx.prepare("INSERT INTO effects VALUES (?)").run(c.idempotencyKey),
          )
        : withInbox(
            inbox as never,
            async (_e: unknown, c: { idempotencyKey: string }, tx: pg.ClientBase) =>
              void (await tx.query("INSERT INTO effects VALUES ($1)", [c.idempotencyKey])),
          );
    await handler({}, ctx("a"));
    await handler({}, ctx("a"));
    await handler({}, ctx("b"));
    expect(await inbox.handled("a")).toBe(true);
    expect(await inbox.handled("c")).toBe(false);
    const failing =
      kind === "sqlite"
        ? withInbox(inbox as never, (_e: unknown, c: { idempotencyKey: string }, tx: BetterSqlite3.Database) => {
            tx.prepare("INSERT INTO effects VALUES (?)").run(c.idempotencyKey);
            throw new Error("boom");
          })
        : withInbox(inbox as never, async (_e: unknown, c: { idempotencyKey: string }, tx: pg.ClientBase) => {
            await tx.query("INSERT INTO effects VALUES ($1)", [c.idempotencyKey]);
            throw new Error("boom");
          });
    await expect(failing({}, ctx("c"))).rejects.toThrow("boom");
    expect(await inbox.handled("c")).toBe(false);
    const store = inbox.store();
    expect(await store.isDone("x")).toBe(false);
    await store.markDone("x");
    expect(await store.isDone("x")).toBe(true);
    if (kind === "sqlite") {
      expect((d.db as BetterSqlite3.Database).prepare("SELECT k FROM effects ORDER BY k").all()).toEqual([{ k: "a" }, { k: "b" }]);
    } else {
      expect((await (d.db as pg.Pool).query("SELECT k FROM effects ORDER BY k")).rows).toEqual([{ k: "a" }, { k: "b" }]);
    }
    await d.close();
  });
});
