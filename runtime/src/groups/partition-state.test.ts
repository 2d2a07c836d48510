import { describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, type ChronicleConnection } from "../index.js";
import { stateNames } from "./names.js";
import { startConsumerGroup } from "./start-consumer-group.js";
import { StateLog } from "./state-log.js";
import { decodeSlotRecord } from "./state-records.js";
import { createTestStreams, noteStream, publishNotes, roundRobin } from "./testing/test-stream.js";

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The kinds of the records of a slot, oldest first. */
async function recordKinds(conn: ChronicleConnection, stream: string, slot: number): Promise<string[]> {
  const log = new StateLog(conn, stream);
  const head = await log.head(stateNames.slot(stream, "g", slot), decodeSlotRecord);
  return (await log.readSlot(stateNames.slot(stream, "g", slot), head.seq, () => undefined)).map((r) => r.record.kind);
}

/**
 * A one-partition stream `name` holding `events` events over 100 keys, and a
 * way to start members of group "g" that retain 2,000 keys per partition and
 * count every handling.
 */
async function snapshotSetup(conn: ChronicleConnection, name: string, events: number) {
  const def = noteStream(name, 1);
  await createTestStreams(conn, def);
  const items = roundRobin(events, 100);
  await publishNotes(conn, name, items, 2000);
  const handled = { count: 0 };
  const start = () =>
    startConsumerGroup(conn, def, {
      group: "g",
      retainKeys: { perPartition: 2000 },
      onError: () => undefined,
      handlers: { Note: async () => void handled.count++ },
    });
  return { items, handled, start };
}

describe("a partition's state", () => {
  it("holding 100,000 keys, is acquired in under a second, and its keys are honoured", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("big", 1);
    await createTestStreams(conn, def);
    // the state an earlier owner left: 100,000 handled keys in snapshot chunks, then its release
    const log = new StateLog(conn, "big");
    await log.ensure(1);
    await log.write(stateNames.group("big", "g"), { kind: "group", floor: 0, epoch: 0, at: Date.now() }, 0, 5000);
    const subject = stateNames.slot("big", "g", 0);
    const owner = { member: "earlier", token: "t0", consumer: "chronicle_g_0_t0", floor: 0, held: 0 };
    let seq = await log.write(subject, { kind: "claim", ...owner, at: Date.now(), write: 0 }, 0, 5000);
    const keys = Array.from({ length: 100_000 }, (_, i) => `Note.big-old${i}-0`);
    for (let i = 0; i < keys.length; i += 20_000) {
      const chunk = keys.slice(i, i + 20_000);
      seq = await log.write(
        subject,
        { kind: "snapshot", ...owner, at: Date.now(), write: i + 1, keysByTime: [[Date.now(), chunk]], dead: [], failing: [] },
        seq,
        5000,
      );
    }
    await log.write(subject, { kind: "release", ...owner, at: Date.now(), write: 999_999 }, seq, 5000);
    // one event the earlier owner handled (its key is in the state), one it did not
    await publishNotes(conn, "big", [
      { key: "old99999", n: 0 },
      { key: "new", n: 0 },
    ]);
    const handled: string[] = [];
    const t0 = performance.now();
    const member = await startConsumerGroup(conn, def, { group: "g", onError: () => undefined, handlers: { Note: async (e) => void handled.push(e.value) } });
    const joinedMs = performance.now() - t0;
    await member.assignmentSettled();
    // from the member's first view to owning the partition: claim, read 100,000 keys, consumer created
    const acquiredMs = performance.now() - t0 - joinedMs;
    await until(
      () => handled.length + member.metrics().duplicates >= 2,
      10_000,
      () => JSON.stringify(member.metrics()),
    );
    console.info(`a partition holding 100,000 keys acquired in ${acquiredMs.toFixed(0)} ms after the member joined (joining took ${joinedMs.toFixed(0)} ms)`);
    expect(handled).toEqual(["new:0"]);
    expect(member.metrics().duplicates).toBe(1);
    // under a second on an idle machine (bench/RESULTS.md); the bound leaves room for a loaded one
    expect(acquiredMs).toBeLessThan(3000);
    await member.stop();
  });

  it(
    "is compacted into a snapshot once its records outgrow twice what one would hold, and the next owner reads the same keys from it",
    { timeout: 90_000 },
    async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url });
      // 12,000 keys of about 25 characters written, 2,000 retained: the records outgrow the 256 KiB that start a snapshot
      const EVENTS = 12_000;
      const { items, handled, start } = await snapshotSetup(conn, "compact", EVENTS);
      const first = await start();
      await until(
        () => handled.count >= EVENTS,
        60_000,
        () => `handled ${handled.count}`,
      );
      await first.stop();
      const kinds = await recordKinds(conn, "compact", 0);
      expect(kinds[0], kinds.slice(0, 5).join(",")).toBe("snapshot");
      expect(kinds.length).toBeLessThan(EVENTS / 10);
      // the last 500 events published again (new sequences, same ids): the next owner skips every one
      await publishNotes(conn, "compact", items.slice(-500), 500, true);
      const second = await start();
      await until(
        () => second.metrics().duplicates >= 500,
        20_000,
        () => JSON.stringify(second.metrics()),
      );
      expect(handled.count).toBe(EVENTS);
      await second.stop();
    },
  );

  it(
    "stopped while it writes a snapshot, releases once the snapshot and its purge are done, and the next owner skips what was handled",
    { timeout: 90_000 },
    async () => {
      // once spun forever (the test hangs rather than fails): the release waited for the snapshot by polling the
      // writer, which was idle during the purge, in a loop of resolved promises that starved every timer
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url });
      const EVENTS = 30_000; // twice what crosses the 256 KiB that start a snapshot
      const { handled, start } = await snapshotSetup(conn, "stopsnap", EVENTS);
      const first = await start();
      // the member is stopped the moment its first snapshot record is stored: the purge that follows is under way
      let stopping: Promise<void> | undefined;
      const sub = conn.nc.subscribe(stateNames.slot("stopsnap", "g", 0), {
        callback: (_err, m) => {
          if (!stopping && decodeSlotRecord(m.data)?.kind === "snapshot") stopping = first.stop();
        },
      });
      await until(
        () => stopping !== undefined || handled.count >= EVENTS,
        60_000,
        () => `handled ${handled.count}`,
      );
      sub.unsubscribe();
      expect(stopping, "a snapshot was written while the member ran").toBeDefined();
      await stopping;
      const kinds = await recordKinds(conn, "stopsnap", 0);
      expect(kinds.at(-1)).toBe("release");
      const handledByFirst = handled.count;
      // the next owner handles the rest, and nothing the first one handled again
      const second = await start();
      await until(
        () => handled.count >= EVENTS,
        30_000,
        () => `handled ${handled.count} (${handledByFirst} by the first owner)`,
      );
      expect(handled.count).toBe(EVENTS);
      await second.stop();
    },
  );
});
