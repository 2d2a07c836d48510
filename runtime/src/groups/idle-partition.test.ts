// A partition with nothing to read for longer than a pull request lives:
// the owner's request expires on the server, and the next event must still
// reach the handler (the expired request is asked for again at once).
import { describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, createProducer } from "../index.js";
import { startConsumerGroup } from "./start-consumer-group.js";
import { createTestStreams, noteStream } from "./testing/test-stream.js";

describe("an idle partition", () => {
  it("gets its next event after its pull requests expired empty", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("idle", 1);
    await createTestStreams(conn, def);
    const handled: string[] = [];
    // failover bound 1 s: heartbeat 100 ms, pull requests expire after 5 s
    const member = await startConsumerGroup(conn, def, {
      group: "g",
      failoverMs: 1000,
      onError: () => undefined,
      handlers: { Note: async (e) => void handled.push(e.value) },
    });
    try {
      await member.assignmentSettled();
      const producer = createProducer(conn, def);
      await producer.publish("Note", { value: "k:1" });
      const until = async (n: number, ms: number) => {
        for (const end = Date.now() + ms; handled.length < n && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
      };
      await until(1, 10_000);
      expect(handled).toEqual(["k:1"]);
      // longer than a request lives: the one waiting now expires empty on the server
      await new Promise((r) => setTimeout(r, 7000));
      await producer.publish("Note", { value: "k:2" });
      await until(2, 10_000);
      expect(handled).toEqual(["k:1", "k:2"]);
      await producer.close();
    } finally {
      await member.stop();
    }
  });
});
