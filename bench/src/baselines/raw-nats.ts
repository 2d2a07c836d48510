// Raw nats.js baselines that Chronicle's figures are compared with. They do
// the least work that gives the same guarantee (acked, stored events), with
// nothing of Chronicle in between.
import { createInbox, headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { perSecond } from "../harness.js";

/** `await js.publish()` one at a time: the naive loop. Returns elapsed ms. */
export async function serialJsPublish(js: JetStreamClient, subject: (i: number) => string, count: number, payload: Uint8Array): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await js.publish(subject(i), payload);
  return performance.now() - start;
}

/** `js.publish()` with `window` in flight (Promise.all per window). Returns elapsed ms. */
export async function windowedJsPublish(
  js: JetStreamClient,
  subject: (i: number) => string,
  count: number,
  payload: Uint8Array,
  window = 1000,
): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i += window) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(count, i + window); j++) batch.push(js.publish(subject(j), payload));
    await Promise.all(batch);
  }
  return performance.now() - start;
}

/** The header lines the producer writes (CloudEvents binary mode), as nats.js headers: to separate their cost from the producer's. */
function ceHeaders(id: string, key: string): MsgHdrs {
  const h = headers();
  h.set("ce-specversion", "1.0");
  h.set("ce-type", "bench.v1.Blob");
  h.set("ce-source", "/chronicle/raw");
  h.set("content-type", "application/protobuf");
  h.set("ce-id", id.padEnd(22, "x"));
  h.set("ce-time", new Date().toISOString());
  h.set("Nats-Msg-Id", id.padEnd(22, "x"));
  h.set("ce-partitionkey", key);
  return h;
}

/**
 * Baseline 2: the least a correct pipelined publisher does. Core publishes
 * with reply subjects under one wildcard inbox subscription, acks matched in
 * a Map by reply token and parsed as JSON, `window` in flight, `Nats-Msg-Id`
 * set; no encoding, no CloudEvents headers, no retries. Returns elapsed ms.
 * `payload` may be a function of the index, to include per-event encoding;
 * `withCeHeaders` sends the producer's CloudEvents header lines, set on
 * nats.js headers as a raw publisher would.
 */
export async function pipelinedPublish(
  nc: NatsConnection,
  subject: (i: number) => string,
  count: number,
  payload: Uint8Array | ((i: number) => Uint8Array),
  window = 5000,
  withCeHeaders = false,
): Promise<number> {
  const prefix = createInbox();
  const pending = new Map<string, () => void>();
  const decoder = new TextDecoder();
  let failure: Error | undefined;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let allDone: (() => void) | undefined;
  const sub = nc.subscribe(`${prefix}.*`, {
    callback: (err, msg) => {
      const done = pending.get(msg.subject.slice(prefix.length + 1));
      if (!done) return;
      pending.delete(msg.subject.slice(prefix.length + 1));
      const ack = err ? undefined : (JSON.parse(decoder.decode(msg.data)) as { error?: unknown });
      if (err || ack?.error) failure ??= err ?? new Error(JSON.stringify(ack?.error));
      done();
    },
  });
  const onAck = () => {
    inFlight--;
    if (wake) {
      const w = wake;
      wake = undefined;
      w();
    }
    if (inFlight === 0 && allDone) allDone();
  };
  const run = `${Date.now()}-`;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    while (inFlight >= window) await new Promise<void>((r) => (wake = r));
    const h = withCeHeaders ? ceHeaders(`${run}${i}`, `k${i % 1000}`) : headers();
    if (!withCeHeaders) h.set("Nats-Msg-Id", `${run}${i}`);
    const token = i.toString(36);
    pending.set(token, onAck);
    inFlight++;
    nc.publish(subject(i), typeof payload === "function" ? payload(i) : payload, { reply: `${prefix}.${token}`, headers: h });
  }
  if (inFlight > 0) await new Promise<void>((r) => (allDone = r));
  const elapsed = performance.now() - start;
  sub.unsubscribe();
  if (failure) throw failure;
  return elapsed;
}

/** `consume()` + `ack()` of `count` messages from an ephemeral consumer. Returns elapsed ms. */
export async function consumeAndAck(js: JetStreamClient, jsm: JetStreamManager, stream: string, count: number): Promise<number> {
  const ci = await jsm.consumers.add(stream, { ack_policy: AckPolicy.Explicit, inactive_threshold: 60_000_000_000 });
  const consumer = await js.consumers.get(stream, ci.name);
  const start = performance.now();
  const messages = await consumer.consume({ max_messages: 1000 });
  let n = 0;
  for await (const m of messages) {
    m.ack();
    if (++n >= count) break;
  }
  const elapsed = performance.now() - start;
  await messages.close();
  await jsm.consumers.delete(stream, ci.name);
  return elapsed;
}

/**
 * The least raw nats.js work a consumer group of Chronicle's design does per
 * event (DESIGN.md 6 and 7), with nothing of Chronicle in between: one
 * durable pull consumer per partition in a `pinned_client` priority group,
 * read with `consume()` (256 in flight, as the runtime pulls), and for every
 * message a KV put of its idempotency record (pipelined, acknowledged by the
 * server) before the message is acked. No lookups, decoding, ordering lanes,
 * retries, metrics or membership. Returns events/s from the first record
 * acknowledgement to the last: the ceiling a group with the KV store can
 * reach on this machine.
 */
export async function pinnedPartitionsWithRecords(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  opts: { stream: string; partitions: number; filter: (partition: number) => string; bucket: string; count: number; name: string },
): Promise<number> {
  const prefix = createInbox();
  const waiting = new Map<string, JsMsg>();
  let done = 0;
  let first = 0;
  let finish: (() => void) | undefined;
  const finished = new Promise<void>((r) => (finish = r));
  const sub = nc.subscribe(`${prefix}.*`, {
    callback: (_err, reply) => {
      const token = reply.subject.slice(prefix.length + 1);
      const m = waiting.get(token);
      if (!m) return;
      waiting.delete(token);
      m.ack();
      if (done++ === 0) first = performance.now();
      if (done === opts.count) finish?.();
    },
  });
  const marker = new Uint8Array([1]);
  let next = 0;
  const stops: { stop(): void }[] = [];
  for (let p = 0; p < opts.partitions; p++) {
    const name = `${opts.name}-${p}`;
    await jsm.consumers.add(opts.stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 512,
      filter_subject: opts.filter(p),
      priority_groups: ["g"],
      priority_policy: "pinned_client",
      priority_timeout: 30_000_000_000,
    } as never);
    const consumer = await js.consumers.get(opts.stream, name);
    const messages = await consumer.consume({
      max_messages: 256,
      group: "g",
      callback: (m: JsMsg) => {
        const token = String(next++);
        waiting.set(token, m);
        nc.publish(`$KV.${opts.bucket}.floor.${name}.${m.seq}`, marker, { reply: `${prefix}.${token}` });
      },
    } as never);
    stops.push(messages);
  }
  await finished;
  const rate = perSecond(opts.count - 1, performance.now() - first);
  for (const s of stops) s.stop();
  sub.unsubscribe();
  for (let p = 0; p < opts.partitions; p++) await jsm.consumers.delete(opts.stream, `${opts.name}-${p}`);
  return rate;
}
