import { describe, expect, it } from "vitest";
import { connect, startLocalServer } from "../index.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { startConsumerGroup } from "./consumer-group.js";
import { createTestStreams, noteStream } from "./testing/test-stream.js";

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
});
