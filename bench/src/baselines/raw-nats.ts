// Raw nats.js baselines that Chronicle's figures are compared with. They do
// the least work that gives the same guarantee (acked, stored events), with
// nothing of Chronicle in between.
import { createInbox, headers, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";

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

/**
 * Hand-pipelined acked publishing: core publishes with reply subjects under
 * one wildcard inbox subscription, acks matched in a Map, a bounded window,
 * `Nats-Msg-Id` set. The fastest correct raw publisher known here. Returns
 * elapsed ms; throws if any ack is an error.
 */
export async function pipelinedPublish(nc: NatsConnection, subject: (i: number) => string, count: number, payload: Uint8Array, window = 5000): Promise<number> {
  const prefix = createInbox();
  const pending = new Map<string, () => void>();
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const sub = nc.subscribe(`${prefix}.*`, {
    callback: (err, msg) => {
      if (err) failure = err;
      else if (msg.data.length > 0 && msg.string().includes('"error"')) failure = new Error(msg.string());
      const token = msg.subject.slice(prefix.length + 1);
      const done = pending.get(token);
      if (done) {
        pending.delete(token);
        done();
      }
    },
  });
  const start = performance.now();
  let acked = 0;
  const allAcked = new Promise<void>((resolve) => {
    const onAck = () => {
      acked++;
      if (wake && pending.size < window) {
        const w = wake;
        wake = undefined;
        w();
      }
      if (acked === count) resolve();
    };
    for (let i = 0; i < count; i++) pending.set(String(i), onAck);
  });
  const ids = `${Date.now()}-`;
  for (let i = 0; i < count; i++) {
    while (i - acked >= window) await new Promise<void>((r) => (wake = r));
    const h = headers();
    h.set("Nats-Msg-Id", `${ids}${i}`);
    nc.publish(subject(i), payload, { reply: `${prefix}.${i}`, headers: h });
  }
  await allAcked;
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
