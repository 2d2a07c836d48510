import { describe, expect, it } from "vitest";
import { connect, startLocalServer } from "../index.js";
import { startConsumerGroup } from "./consumer-group.js";
import { createTestStreams, noteStream, publishNotes, roundRobin } from "./testing/test-stream.js";

describe("smoke", () => {
  it("one member handles everything", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("smoke", 4);
    await createTestStreams(conn, def);
    await publishNotes(conn, "smoke", roundRobin(2000, 20));
    const seen: string[] = [];
    const t0 = Date.now();
    await using member = await startConsumerGroup(conn, def, { group: "g", handlers: { Note: async (e) => void seen.push(e.value) } });
    while (seen.length < 2000 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    console.log("ms", Date.now() - t0, member.metrics());
    expect(seen.length).toBe(2000);
  });
});
