import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import {
  DeadLetterHeaders,
  NonRetryableError,
  connect,
  createMemoryIdempotencyStore,
  describeGroup,
  isChronicleError,
  lag,
  listDeadLetters,
  listGroups,
  redriveDeadLetter,
  rewindGroup,
} from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { startConsumerGroup } from "./start-consumer-group.js";
import { createTestStreams, noteStream, publishNotes, roundRobin } from "./testing/test-stream.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean | Promise<boolean>, what: () => string = () => "", ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met in time: ${cond.toString()} ${what()}`);
    await sleep(50);
  }
}

describe("retries, dead letters and redrive", () => {
  it("dead-letters an always-failing event after its attempts, moves on, and a redrive after the fix handles it once", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("pay", 2);
    await createTestStreams(conn, def);
    const handled: string[] = [];
    const attempts: number[] = [];
    let fixed = false;
    const member = await startConsumerGroup(conn, def, {
      group: "billing",
      retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 300 },
      onError: () => undefined,
      handlers: {
        Note: async (e, ctx) => {
          if (e.value === "bad:0" && !fixed) {
            attempts.push(ctx.attempt);
            throw new Error("card processor down\nsecond line");
          }
          if (e.value === "poison:0") throw new NonRetryableError("never valid");
          handled.push(e.value);
        },
      },
    });
    await publishNotes(conn, "pay", [{ key: "bad", n: 0 }, { key: "bad", n: 1 }, ...roundRobin(40, 8), { key: "poison", n: 0 }]);
    // Random bytes on a stream subject: field 1 with wire type 7 cannot be decoded.
    const garbage = new Uint8Array([0x0f, ...Array.from({ length: 31 }, (_, i) => (i * 37) & 0xff)]);
    await conn.js.publish("pay.Note.rnd", garbage);
    await publishNotes(conn, "pay", [{ key: "rnd", n: 1 }]);

    await until(
      () => handled.length === 41 + 1,
      () => JSON.stringify({ handled, attempts, m: member.metrics() }),
    ); // 40 + rnd:1 + bad:1 (after bad:0 was dead-lettered)
    // Per-key order through the retries: bad:1 waited for bad:0 to be dead-lettered.
    expect(handled).toContain("bad:1");
    expect(attempts).toEqual([1, 2, 3]);
    await until(async () => (await listDeadLetters(conn, "pay")).length === 3);
    const dls = await listDeadLetters(conn, "pay");
    const bad = dls.find((d) => d.key === "bad")!;
    expect(bad).toMatchObject({ group: "billing", eventName: "Note", attempts: 3, reason: "attempts_exhausted", error: "card processor down | second line" });
    expect(bad.origin.stream).toBe("pay");
    expect(bad.origin.subject).toMatch(/^pay\.\d+\.Note\.bad$/);
    expect(bad.headers["ce-partitionkey"]).toBe("bad");
    expect(bad.headers["ce-id"]).toBe("pay-bad-0");
    expect(bad.headers[DeadLetterHeaders.MsgId]).toBe("pay-bad-0");
    expect(Date.parse(bad.firstFailure)).toBeLessThanOrEqual(Date.parse(bad.lastFailure));
    expect(Buffer.from(bad.data).toString("utf8")).toContain("bad:0");
    const poison = dls.find((d) => d.key === "poison")!;
    expect(poison).toMatchObject({ reason: "non_retryable", attempts: 1 });
    const rnd = dls.find((d) => d.key === "rnd")!;
    expect(rnd.reason).toBe("decode_failed");
    expect(rnd.error).toMatch(/cannot decode pay#\d+ as google\.protobuf\.StringValue/);
    expect(Buffer.from(rnd.data)).toEqual(Buffer.from(garbage));
    expect(member.metrics()).toMatchObject({ deadLettered: 3, retried: 2 });

    // Another group of the same stream must not see the redrive.
    const otherSeen: string[] = [];
    const other = await startConsumerGroup(conn, def, {
      group: "audit",
      store: createMemoryIdempotencyStore(),
      onError: () => undefined,
      handlers: { Note: async (e) => void otherSeen.push(e.value) },
    });
    await until(() => otherSeen.length === 44); // everything but the garbage
    fixed = true;
    const redriveSeq = await redriveDeadLetter(conn, "pay", bad.dlqSequence);
    expect(redriveSeq).toBeGreaterThan(0);
    await until(() => handled.includes("bad:0"));
    await sleep(1500);
    expect(handled.filter((v) => v === "bad:0")).toHaveLength(1);
    expect(otherSeen.filter((v) => v === "bad:0")).toHaveLength(1);
    expect((await listDeadLetters(conn, "pay", { group: "billing" })).map((d) => d.key).sort()).toEqual(["poison", "rnd"]);
    // Each group dead-letters the undecodable event on its own.
    expect((await listDeadLetters(conn, "pay", { group: "audit" })).map((d) => d.reason)).toEqual(["decode_failed"]);
    await other.stop();
    await member.stop();
  });
});

describe("rewind, describe and lag", () => {
  it("refuses to rewind a running group, and a group rewound to a time handles every later event again", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("inv", 4);
    await createTestStreams(conn, def);
    await publishNotes(conn, "inv", roundRobin(30, 5, "a"));
    await sleep(100);
    const cut = new Date();
    await sleep(100);
    await publishNotes(conn, "inv", roundRobin(20, 5, "b"));
    const seen: string[] = [];
    const start = () =>
      startConsumerGroup(conn, def, { group: "proj", failoverMs: 2000, onError: () => undefined, handlers: { Note: async (e) => void seen.push(e.value) } });
    const m1 = await start();
    await until(() => seen.length === 50);
    // an event is acknowledged after its handler, once its record is stored: wait for the last acks
    await until(async () => (await describeGroup(conn, "inv", "proj")).partitions.every((p) => p.lag === 0));

    const d = await describeGroup(conn, "inv", "proj");
    expect(d.members.map((m) => m.id)).toEqual([m1.id]);
    expect(d.partitions).toHaveLength(4);
    expect(d.partitions.every((p) => p.owner === m1.id && p.lag === 0)).toBe(true);
    expect(await listGroups(conn)).toEqual([{ stream: "inv", group: "proj", partitions: 4, lag: 0 }]);

    const refused = await rewindGroup(conn, "inv", "proj", { to: cut }).catch((e: unknown) => e);
    expect(isChronicleError(refused, "failed_precondition")).toBe(true);
    expect((refused as Error).message).toContain("stop them first");

    await m1.stop();
    await publishNotes(conn, "inv", [{ key: "c", n: 0 }]);
    expect((await lag(conn, "inv", "proj"))[0]!.lag).toBe(1);
    const r = await rewindGroup(conn, "inv", "proj", { to: cut });
    expect(r).toEqual({ epoch: 1, partitions: 4 });
    expect((await lag(conn, "inv", "proj"))[0]!.lag).toBe(21);
    const before = seen.length;
    const m2 = await start();
    await until(() => seen.length === before + 21);
    await sleep(500);
    const again = seen.slice(before).sort();
    expect(again).toEqual([...roundRobin(20, 5, "b").map((x) => `${x.key}:${x.n}`), "c:0"].sort());
    await m2.stop();
  });
});
