import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { assignSlots } from "../groups/assignment.js";
import { startConsumerGroup, type ConsumerGroupMember } from "./start-consumer-group.js";
import { createTestStreams, noteStream } from "./testing/test-stream.js";

const PARTITIONS = 8;

describe("consumer group assignment", () => {
  // Members that join together first see themselves alone: each queues an acquire of every
  // partition, and sees the other a few milliseconds later, while those acquires still await
  // their handover. A member then kept reading partitions that the shared view gave to the other
  // (two readers on one pinned consumer; after a server restart, events stuck on the one not pinned).
  it("members joining together read exactly the partitions their view assigns them", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url, name: "race" });
    const def = noteStream("race", PARTITIONS);
    await createTestStreams(conn, def);
    const members: ConsumerGroupMember[] = [];
    try {
      for (let round = 0; round < 4; round++) {
        const group = `g${round}`;
        members.push(
          ...(await Promise.all(
            ["a", "b"].map((id) => startConsumerGroup(conn, def, { group, memberId: id, onError: () => undefined, handlers: { Note: async () => undefined } })),
          )),
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
      const slots = PARTITIONS + 1;
      const views = members.map((m) => ({
        group: m.group,
        id: m.id,
        members: m.members(),
        reads: m.partitions(),
        assigned: assignSlots(slots, m.members()).flatMap((o, p) => (o === m.id && p < PARTITIONS ? [p] : [])),
      }));
      for (const v of views) expect(v.members, JSON.stringify(v)).toEqual(["a", "b"]);
      for (const v of views) expect(v.reads, JSON.stringify(v)).toEqual(v.assigned);
    } finally {
      for (const m of members) await m.stop();
    }
  });
});
