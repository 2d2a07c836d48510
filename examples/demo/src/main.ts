// The demo: a real round trip on a local NATS that the demo starts itself.
// Creates a partitioned stream, publishes events keyed by order id, reads
// them back per partition and checks per-key order.
import { connect, layout, partitionOf, startLocalServer, Headers } from "@chronicle/runtime";
import { headers } from "@nats-io/transport-node";
import { DeliverPolicy } from "@nats-io/jetstream";

const EVENTS = 2_000;
const KEYS = 50;
const PARTITIONS = 4;

const t0 = performance.now();
console.log("starting a local nats-server with JetStream (installed on first use) ...");
await using server = await startLocalServer();
console.log(`  ${server.url}`);
await using conn = await connect({ servers: server.url });

await conn.jsm.streams.add({
  name: "orders",
  subjects: [layout.inputFilter("orders")],
  subject_transform: { src: layout.inputFilter("orders"), dest: layout.transformDest("orders", PARTITIONS) },
});
console.log(`created stream "orders" with ${PARTITIONS} partitions`);

const pending: Promise<unknown>[] = [];
for (let i = 0; i < EVENTS; i++) {
  const key = `order-${i % KEYS}`;
  const h = headers();
  h.set(Headers.Id, `ev-${i}`);
  h.set(Headers.MsgId, `ev-${i}`);
  h.set(Headers.PartitionKey, key);
  pending.push(conn.js.publish(layout.publishSubject("orders", "OrderPlaced", key), JSON.stringify({ n: i }), { headers: h }));
}
await Promise.all(pending);
console.log(`published ${EVENTS} events over ${KEYS} keys`);

let read = 0;
let misplaced = 0;
let outOfOrder = 0;
const last = new Map<string, number>();
for (let p = 0; p < PARTITIONS; p++) {
  const consumer = await conn.js.consumers.get("orders", { filter_subjects: [layout.partitionFilter("orders", p)], deliver_policy: DeliverPolicy.All });
  const info = await consumer.info();
  let remaining = info.num_pending;
  const perPartition = remaining;
  while (remaining > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(remaining, 500), expires: 2000 });
    for await (const m of batch) {
      remaining--;
      read++;
      const key = m.headers?.get(Headers.PartitionKey) ?? "";
      if (partitionOf(key, PARTITIONS) !== p) misplaced++;
      const n = (m.json() as { n: number }).n;
      if ((last.get(key) ?? -1) > n) outOfOrder++;
      last.set(key, n);
    }
  }
  console.log(`  partition ${p}: ${perPartition} events`);
}
console.log(`read back ${read} events: ${misplaced} in a wrong partition, ${outOfOrder} per-key order violations`);
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (read !== EVENTS || misplaced || outOfOrder) process.exitCode = 1;
