// A process the crash tests SIGKILL at random points (not part of the
// public API). Modes:
//   writer <db> <nats> <stream> <quota> <keys> <writers>
//     writes `quota` business rows, each with its event enqueued in the same
//     transaction, while a relay publishes; prints "ready" once running and
//     "done" when everything it wrote is relayed.
//   relay <db> <nats> <stream>
//     runs one relay until killed; prints "ready".
//   postgres
//     starts a local PostgreSQL and prints its pid; for the orphan test.
//   consumer <db> <nats> <stream> <group>
//     handles the stream with startConsumerGroup and inbox-wrapped handlers
//     whose effect (a row per event, and a per-key total) commits with the
//     inbox record; prints "ready".
import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { connect, startConsumerGroup } from "@chronicle/runtime";
import { createInbox, createOutbox, openOutboxDatabase, startRelay, type SqliteOutbox, type PgOutbox } from "../index.js";
import { testStream, type Changed } from "./test-stream.js";

const [mode, dbArg, natsUrl, streamName, a5, a6, a7] = process.argv.slice(2) as [string, string, string, string, string?, string?, string?];
if (mode === "postgres") {
  const { startLocalPostgres } = await import("@chronicle/testing");
  const server = await startLocalPostgres();
  console.log(`pid ${server.pid} dir ${server.dir} ready`);
  await new Promise(() => undefined);
}
const def = testStream({ name: streamName, partitions: 4 });
const opened = openOutboxDatabase(dbArg, { poolSize: 8 });
if (opened.dialect === "postgres") (opened.db as pg.Pool).on("error", () => undefined);
const conn = await connect({ servers: natsUrl });
const quiet = (err: unknown) => void process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);

async function bizSchema(): Promise<void> {
  const ddl = [
    "CREATE TABLE IF NOT EXISTS biz_counter (key TEXT PRIMARY KEY, n INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS biz (key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n))",
    "CREATE TABLE IF NOT EXISTS effects (key TEXT NOT NULL, n INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS totals (key TEXT PRIMARY KEY, sum INTEGER NOT NULL, count INTEGER NOT NULL)",
  ];
  if (opened.dialect === "sqlite") for (const d of ddl) (opened.db as BetterSqlite3.Database).exec(d);
  else {
    const pool = opened.db as pg.Pool;
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(42)");
      for (const d of ddl) await client.query(d);
      await client.query("COMMIT");
    } finally {
      client.release();
    }
  }
}

if (mode === "writer") {
  const quota = Number(a5);
  const keys = Number(a6);
  const writers = Number(a7 ?? 1);
  const outbox = createOutbox(opened.db);
  await outbox.migrate();
  await bizSchema();
  // a stable owner name: the restarted process takes its SQLite lease back at once
  const relay = await startRelay(outbox, conn, { pollIntervalMs: 5, owner: "crash-writer", onError: quiet });
  console.log("ready");
  let left = quota;
  const pick = () => `key-${Math.floor(Math.random() * keys)}`;
  if (outbox.dialect === "sqlite") {
    const db = opened.db as BetterSqlite3.Database;
    const producer = (outbox as SqliteOutbox).producer(def);
    const bump = db.prepare("INSERT INTO biz_counter (key, n) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1 RETURNING n");
    const insert = db.prepare("INSERT INTO biz (key, n) VALUES (?, ?)");
    const tx = db.transaction((key: string) => {
      const { n } = bump.get(key) as { n: number };
      insert.run(key, n);
      producer.publish(db, "Changed", { key, n: BigInt(n) });
    });
    while (left-- > 0) {
      tx.immediate(pick());
      // let the relay run between transactions
      if (left % 20 === 0) await new Promise((r) => setImmediate(r));
    }
  } else {
    const pool = opened.db as pg.Pool;
    const producer = (outbox as PgOutbox).producer(def);
    await Promise.all(
      Array.from({ length: writers }, async () => {
        const client = await pool.connect();
        while (left-- > 0) {
          const key = pick();
          await client.query("BEGIN");
          // the business write locks its key row: concurrent writers of a key commit one after the other
          const r = await client.query<{ n: number }>(
            "INSERT INTO biz_counter (key, n) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET n = biz_counter.n + 1 RETURNING n",
            [key],
          );
          const n = r.rows[0]!.n;
          await client.query("INSERT INTO biz (key, n) VALUES ($1, $2)", [key, n]);
          await producer.publish(client, "Changed", { key, n: BigInt(n) });
          await client.query("COMMIT");
        }
        client.release();
      }),
    );
  }
  while ((await outbox.status()).pending > 0) await new Promise((r) => setTimeout(r, 20));
  console.log("done");
  await relay.stop();
} else if (mode === "relay") {
  const outbox = createOutbox(opened.db);
  const relay = await startRelay(outbox, conn, { pollIntervalMs: 5, claimIntervalMs: 200, onError: quiet });
  console.log("ready");
  setInterval(() => console.log(`published ${relay.stats().published}`), 100);
} else if (mode === "consumer") {
  const group = a5 ?? "g";
  await bizSchema();
  if (opened.dialect === "sqlite") {
    const db = opened.db as BetterSqlite3.Database;
    const inbox = createInbox(db, { consumer: group });
    await inbox.migrate();
    const effect = db.prepare("INSERT INTO effects (key, n) VALUES (?, ?)");
    const total = db.prepare(
      "INSERT INTO totals (key, sum, count) VALUES (?, ?, 1) ON CONFLICT (key) DO UPDATE SET sum = sum + excluded.sum, count = count + 1",
    );
    await startConsumerGroup(conn, def, {
      group,
      failoverMs: 2000,
      store: inbox.store(),
      onError: quiet,
      handlers: {
        Changed: inbox.handler((event, ctx, tx) => {
          void tx;
          const e = event as unknown as Changed;
          effect.run(e.key, Number(e.n));
          total.run(ctx.key, Number(e.n));
        }),
      },
    });
  } else {
    const pool = opened.db as pg.Pool;
    const inbox = createInbox(pool, { consumer: group });
    await inbox.migrate();
    await startConsumerGroup(conn, def, {
      group,
      failoverMs: 2000,
      store: inbox.store(),
      onError: quiet,
      handlers: {
        Changed: inbox.handler(async (event, ctx, tx) => {
          const e = event as unknown as Changed;
          await tx.query("INSERT INTO effects (key, n) VALUES ($1, $2)", [e.key, Number(e.n)]);
          await tx.query(
            "INSERT INTO totals (key, sum, count) VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET sum = totals.sum + excluded.sum, count = totals.count + 1",
            [ctx.key, Number(e.n)],
          );
        }),
      },
    });
  }
  console.log("ready");
}
