import type { JsMsg } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { PIN_GROUP, partitionConsumerName, pinnedClient } from "../groups/names.js";
import { startConsumerGroup } from "./consumer-group.js";
import { PinWatch } from "./pin-watch.js";
import { createTestStreams, noteStream, publishNotes } from "./testing/test-stream.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(50);
  }
  return false;
}

describe("pins of a group's partition consumers", () => {
  it(
    "four members started together drain 20,000 events with no partition left waiting for a stale pin, each event handled once, lag reported only for their own partitions",
    { timeout: 90_000 },
    async () => {
      await using server = await startLocalServer();
      await using admin = await connect({ servers: server.url });
      const def = noteStream("together", 16);
      await createTestStreams(admin, def);
      const EVENTS = 20_000;
      await publishNotes(
        admin,
        "together",
        Array.from({ length: EVENTS }, (_, i) => ({ key: `k${i % 500}`, n: i })),
        2000,
      );
      const conns = await Promise.all(Array.from({ length: 4 }, () => connect({ servers: server.url })));
      const times = new Map<string, number>();
      let runs = 0;
      const t0 = Date.now();
      // failoverMs 30 s: a stale pin would hold a partition for its 15 s priority_timeout
      const members = await Promise.all(
        conns.map((c) =>
          startConsumerGroup(c, def, {
            group: "g",
            failoverMs: 30_000,
            onError: () => undefined,
            handlers: {
              Note: async (e) => {
                runs++;
                times.set(e.value, (times.get(e.value) ?? 0) + 1);
              },
            },
          }),
        ),
      );
      const drained = await until(() => times.size === EVENTS, 30_000);
      const ms = Date.now() - t0;
      await sleep(300);
      // a member reports lag only for the partitions it owns (records completing after a handover used to put a given-up one back)
      const lagged = members.map((m) =>
        Object.keys(m.metrics().lag)
          .map(Number)
          .sort((a, b) => a - b),
      );
      const owned = members.map((m) => m.partitions());
      for (const m of members) await m.stop();
      for (const c of conns) await c.close();
      expect(drained, `handled ${times.size} of ${EVENTS}`).toBe(true);
      expect(ms, "drained well before a 15 s priority_timeout").toBeLessThan(12_000);
      // A member's first view used to be itself alone (its own heartbeat came back before it had
      // read the others): it took every partition, reset and unpinned the consumers the others were
      // reading, and what they had in flight ran twice (0-256 in 20,000-50,000 events).
      console.info(`four members started together: drained ${EVENTS} in ${ms} ms, handlers run twice ${runs - EVENTS}`);
      expect(runs - EVENTS, "handlers run twice").toBe(0);
      expect(lagged).toEqual(owned);
    },
  );

  it("a pin held by a pull nobody reads any more is freed for the worker that pulls, long before priority_timeout", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await conn.jsm.streams.add({ name: "stale", subjects: ["stale.>"] });
    await conn.jsm.consumers.add("stale", {
      durable_name: "p0",
      ack_policy: "explicit",
      max_ack_pending: 100,
      priority_groups: [PIN_GROUP],
      priority_policy: "pinned_client",
      priority_timeout: 30_000_000_000,
    } as never);
    const consumer = await conn.js.consumers.get("stale", "p0");
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++) await conn.js.publish("stale.x", new TextEncoder().encode(String(i)));
    };

    // A previous owner: pinned by its first message, then gone without unpinning.
    const gone: JsMsg[] = [];
    const old = await consumer.consume({ max_messages: 1, group: PIN_GROUP, callback: (m: JsMsg) => void gone.push(m) } as never);
    await publish(1);
    expect(await until(() => gone.length === 1, 5_000)).toBe(true);
    gone[0]!.ack();
    old.stop();
    await sleep(200);
    const stalePin = pinnedClient(await conn.jsm.consumers.info("stale", "p0"));
    expect(stalePin).toBeDefined();

    // The next owner pulls, and a PinWatch looks after it.
    const got: JsMsg[] = [];
    const watch = new PinWatch(conn, "stale", "p0", () => 0);
    const next = await consumer.consume({
      max_messages: 10,
      group: PIN_GROUP,
      callback: (m: JsMsg) => {
        watch.delivered();
        got.push(m);
        m.ack();
      },
    } as never);
    void watch.watch(next);
    await publish(5);
    await sleep(1500);
    expect(got, "the stale pin keeps the next owner waiting without the watch").toHaveLength(0);
    const t0 = Date.now();
    watch.start();
    expect(await until(() => got.length === 5, 10_000), `got ${got.length}`).toBe(true);
    expect(Date.now() - t0).toBeLessThan(6_000); // the pin's priority_timeout is 30 s
    const pinned = pinnedClient(await conn.jsm.consumers.info("stale", "p0"));
    expect(pinned).not.toBe(stalePin);
    expect(watch.pinIds.has(pinned!)).toBe(true);
    watch.stop();
    next.stop();
  });
});
