import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { ChronicleError, ErrorCode } from "../errors.js";
import { startConsumerGroup } from "./start-consumer-group.js";
import type { IdempotencyStore } from "../idempotency/types.js";
import { createTestStreams, noteStream, publishNotes } from "./testing/test-stream.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a member whose connection is closed under it", () => {
  it("reports it once with code closed, stops pulling, and stops cleanly", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using admin = await connect({ servers: server.url });
    const def = noteStream("closing", 8);
    await createTestStreams(admin, def);
    const conn = await connect({ servers: server.url });
    const errors: unknown[] = [];
    const member = await startConsumerGroup(conn, def, { group: "g", onError: (e) => errors.push(e), handlers: { Note: async () => undefined } });
    await sleep(500);
    expect(errors).toEqual([]);

    await conn.close();
    await sleep(2500); // five of the workers' half-second retry periods
    expect(errors, `reported: ${errors.map((e) => (e as Error).message).join(" | ")}`).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ChronicleError);
    expect((errors[0] as ChronicleError).code).toBe(ErrorCode.Closed);
    expect((errors[0] as Error).message).toContain("was closed while it ran");

    const t0 = Date.now();
    await member.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    await sleep(600);
    expect(errors).toHaveLength(1);
  });

  it("events waiting for a store that does not answer stop retrying once the connection is closed", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using admin = await connect({ servers: server.url });
    const def = noteStream("closing2", 2);
    await createTestStreams(admin, def);
    await publishNotes(
      admin,
      "closing2",
      Array.from({ length: 10 }, (_, n) => ({ key: `k${n}`, n })),
    );
    const conn = await connect({ servers: server.url });
    const errors: string[] = [];
    const down: IdempotencyStore = {
      isDone: async () => {
        throw new ChronicleError(ErrorCode.Unavailable, "store down");
      },
      markDone: async () => undefined,
    };
    const member = await startConsumerGroup(conn, def, {
      group: "g",
      store: down,
      onError: (e) => errors.push((e as Error).message),
      handlers: { Note: async () => undefined },
    });
    await sleep(1500);
    // each waiting event retried its lookup with backoff and said so
    expect(errors.filter((m) => m === "store down").length).toBeGreaterThanOrEqual(10);
    await conn.close();
    await sleep(500);
    const afterClose = errors.length;
    await sleep(6000); // longer than the longest retry wait (5 s)
    expect(errors.slice(afterClose)).toEqual([]);
    expect(errors.filter((m) => m.includes("was closed while it ran"))).toHaveLength(1);
    await member.stop();
  });
});
