import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { connect, createProducer, defineStream, ensureStream, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalPostgres, startLocalServer } from "@chronicle/testing";
import { createOutbox, startRelay, type PgOutbox, type SqliteOutbox } from "@chronicle/outbox";
import BetterSqlite3 from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { perSecond, type Benchmark, type Measurement } from "../harness.js";

/** `bench.v1.Row { string key = 1; bytes body = 2; }`, built at run time. */
function rowSchema(): DescMessage {
  const field = (name: string, number: number, type: FieldDescriptorProto_Type) => ({
    name,
    number,
    type,
    label: FieldDescriptorProto_Label.OPTIONAL,
    jsonName: name,
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "bench/v1/row.proto",
    package: "bench.v1",
    syntax: "proto3",
    messageType: [{ name: "Row", field: [field("key", 1, FieldDescriptorProto_Type.STRING), field("body", 2, FieldDescriptorProto_Type.BYTES)] }],
  });
  return createFileRegistry(file, () => undefined).getMessage("bench.v1.Row")!;
}

const KEYS = 1000;
const TX_SIZE = 100;

function stream(name: string, schema: DescMessage) {
  return defineStream<{ Row: DescMessage }>(
    { name, partitions: 16 },
    { Row: { schema, name: "Row", type: "bench.v1.Row", keyPath: "key", key: (m) => (m as unknown as { key: string }).key } },
  );
}

/** Fills an outbox with `count` events in transactions of TX_SIZE (one `publish` each, or one `publishBatch`); returns elapsed ms. */
async function fill(outbox: SqliteOutbox | PgOutbox, def: ReturnType<typeof stream>, count: number, body: Uint8Array, batch: boolean): Promise<number> {
  const start = performance.now();
  if (outbox.dialect === "sqlite") {
    const db = outbox.db as BetterSqlite3.Database;
    const p = (outbox as SqliteOutbox).producer(def);
    const tx = db.transaction((from: number) => {
      const items = [];
      for (let i = from; i < Math.min(count, from + TX_SIZE); i++) items.push({ name: "Row" as const, event: { key: `k${i % KEYS}`, body } });
      p.publishBatch(db, items);
    });
    for (let i = 0; i < count; i += TX_SIZE) tx.immediate(i);
  } else {
    const pool = outbox.db as pg.Pool;
    const p = (outbox as PgOutbox).producer(def);
    // four writers, as a service's request handlers would be
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = await pool.connect();
        while (next < count) {
          const from = next;
          next += TX_SIZE;
          await client.query("BEGIN");
          if (batch) {
            const items = [];
            for (let i = from; i < Math.min(count, from + TX_SIZE); i++) items.push({ name: "Row" as const, event: { key: `k${i % KEYS}`, body } });
            await p.publishBatch(client, items);
          } else for (let i = from; i < Math.min(count, from + TX_SIZE); i++) await p.publish(client, "Row", { key: `k${i % KEYS}`, body });
          await client.query("COMMIT");
        }
        client.release();
      }),
    );
  }
  return performance.now() - start;
}

async function drain(outbox: SqliteOutbox | PgOutbox, conn: ChronicleConnection): Promise<number> {
  const start = performance.now();
  const relay = await startRelay(outbox, conn, {
    pollIntervalMs: 5,
    ...(process.env["OUTBOX_BENCH_BATCH"]
      ? { batchSize: Number(process.env["OUTBOX_BENCH_BATCH"]), maxInFlight: Number(process.env["OUTBOX_BENCH_BATCH"]) }
      : {}),
  });
  while ((await outbox.status()).pending > 0) await new Promise((r) => setTimeout(r, 5));
  const elapsed = performance.now() - start;
  await relay.stop();
  return elapsed;
}

const benchmark: Benchmark = {
  name: "outbox",
  description:
    "Transactional outbox: enqueue in transactions (SQLite, PostgreSQL) and relay throughput to JetStream, beside the runtime producer in the same run",
  async run(ctx) {
    const count = ctx.quick ? 3000 : 50_000;
    const body = new Uint8Array(128).fill(7);
    const schema = rowSchema();
    await using server = await startLocalServer();
    await using postgres = await startLocalPostgres({ log: ctx.log });
    await using conn = await connect({ servers: server.url });
    const dir = mkdtempSync(join(tmpdir(), "chronicle-bench-outbox-"));
    const out: Measurement[] = [];
    try {
      const baseDef = stream("bench_outbox_producer", schema);
      await ensureStream(conn, baseDef);
      const producer = createProducer(conn, baseDef);
      const pStart = performance.now();
      const pubs = [];
      for (let i = 0; i < count; i++) pubs.push(producer.publish("Row", { key: `k${i % KEYS}`, body }));
      await Promise.all(pubs);
      const producerRate = perSecond(count, performance.now() - pStart);
      await producer.close();
      ctx.log(`producer: ${producerRate} events/s`);
      const baseline = { name: "runtime createProducer (pipelined, same events)", value: producerRate };

      const sqlite = new BetterSqlite3(join(dir, "bench.db"));
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("synchronous = NORMAL");
      const pool = new pg.Pool({ connectionString: postgres.url, max: 6 });
      pool.on("error", () => undefined);
      for (const [label, outbox] of [
        ["SQLite", createOutbox(sqlite)],
        ["PostgreSQL", createOutbox(pool)],
      ] as const) {
        const def = stream(`bench_outbox_${label.toLowerCase()}`, schema);
        await ensureStream(conn, def);
        await outbox.migrate();
        if (label === "PostgreSQL") {
          // one publish (one round trip) per event, then drained below with the batch-filled rows
          const oneByOne = Math.min(count, ctx.quick ? 1000 : 10_000);
          const ms = await fill(outbox, def, oneByOne, body, false);
          out.push({ name: `enqueue, ${label}, publish per event, ${TX_SIZE} per transaction`, value: perSecond(oneByOne, ms), unit: "events/s", baseline });
          await drain(outbox, conn);
        }
        const fillMs = await fill(outbox, def, count, body, true);
        ctx.log(`${label}: enqueued ${count} in ${Math.round(fillMs)} ms`);
        out.push({ name: `enqueue, ${label}, publishBatch of ${TX_SIZE} per transaction`, value: perSecond(count, fillMs), unit: "events/s", baseline });
        const relayMs = await drain(outbox, conn);
        ctx.log(`${label}: relayed ${count} in ${Math.round(relayMs)} ms`);
        out.push({
          name: `relay ${label} -> JetStream (${KEYS} keys, chained per key)`,
          value: perSecond(count, relayMs),
          unit: "events/s",
          baseline,
          note: "relay includes reading and deleting the rows",
        });
      }
      sqlite.close();
      await pool.end();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return out;
  },
};

export default benchmark;
