import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalCluster, startLocalServer } from "@chronicle/testing";
import { isChronicleError } from "../errors.js";
import { resolveStreamSettings } from "../definition.js";
import { applyStreams, ensureStream, planStreams } from "./provision.js";
import { testStream } from "./test-fixtures.js";

describe("stream provisioning", () => {
  it("creates a stream and its dead-letter stream, idempotently, with the documented layout", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const settings = resolveStreamSettings({ name: "orders", partitions: 4, maxAgeMs: 3_600_000, duplicateWindowMs: 60_000 });
    expect((await planStreams(conn, [settings])).map((p) => [p.stream, p.action])).toEqual([
      ["orders", "create"],
      ["orders_dlq", "create"],
    ]);
    const applied = await applyStreams(conn, [settings]);
    expect(applied.every((p) => p.applied)).toBe(true);
    const again = await applyStreams(conn, [settings]);
    expect(again.map((p) => p.action)).toEqual(["unchanged", "unchanged"]);

    const info = await conn.jsm.streams.info("orders");
    expect(info.config.subjects).toEqual(["orders.*.*"]);
    expect(info.config.subject_transform).toEqual({ src: "orders.*.*", dest: "orders.{{partition(4,2)}}.{{wildcard(1)}}.{{wildcard(2)}}" });
    expect(info.config.max_age).toBe(3_600_000 * 1e6);
    expect(info.config.duplicate_window).toBe(60_000 * 1e6);
    expect(info.config.storage).toBe("file");
    const dlq = await conn.jsm.streams.info("orders_dlq");
    expect(dlq.config.subjects).toEqual(["orders_dlq.>"]);
    expect(dlq.config.subject_transform).toBeUndefined();
    expect(dlq.config.storage).toBe("file");
    expect(dlq.config.num_replicas).toBe(1);
  });

  it("applies safe changes, refuses destructive ones with a reason, and applies them with force", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const base = { name: "orders", partitions: 4, maxAgeMs: 0, maxMsgs: -1 };
    await applyStreams(conn, [resolveStreamSettings(base)]);

    const longer = await applyStreams(conn, [resolveStreamSettings({ ...base, duplicateWindowMs: 30_000 })]);
    expect(longer[0]).toMatchObject({ action: "update", applied: true });
    expect(longer[0]!.changes).toEqual([{ field: "duplicate_window", from: 120_000, to: 30_000, destructive: false }]);

    const cases: [Partial<typeof base> & Record<string, unknown>, string][] = [
      [{ partitions: 8 }, "partitions"],
      [{ maxAgeMs: 60_000 }, "max_age"],
      [{ maxMsgs: 1000 }, "max_msgs"],
      [{ maxBytes: 1_000_000 }, "max_bytes"],
      [{ storage: "memory" }, "storage"],
    ];
    for (const [change, field] of cases) {
      const s = resolveStreamSettings({ ...base, duplicateWindowMs: 30_000, ...change });
      const plan = await planStreams(conn, [s]);
      expect(plan[0]!.action, field).toBe("refused");
      expect(plan[0]!.reason).toContain(field);
      expect(plan[0]!.changes.find((c) => c.field === field)?.destructive).toBe(true);
      const refused = await applyStreams(conn, [s]);
      expect(refused[0]!.applied).toBeUndefined();
      await expect(ensureStream(conn, { settings: s })).rejects.toSatisfy((e) => isChronicleError(e, "failed_precondition"));
    }
    expect((await conn.jsm.streams.info("orders")).config.subject_transform?.dest).toContain("partition(4,2)");

    // more partitions with force: the transform changes; memory storage with force: recreated
    const forced = await applyStreams(conn, [resolveStreamSettings({ ...base, duplicateWindowMs: 30_000, partitions: 8 })], { force: true });
    expect(forced[0]).toMatchObject({ action: "update", forced: true, applied: true });
    expect((await conn.jsm.streams.info("orders")).config.subject_transform?.dest).toContain("partition(8,2)");
    const recreated = await applyStreams(conn, [resolveStreamSettings({ ...base, duplicateWindowMs: 30_000, partitions: 8, storage: "memory" })], {
      force: true,
    });
    expect(recreated[0]).toMatchObject({ action: "recreate", applied: true });
    expect((await conn.jsm.streams.info("orders")).config.storage).toBe("memory");
    // a longer retention is safe
    const relaxed = await planStreams(conn, [resolveStreamSettings({ ...base, duplicateWindowMs: 30_000, partitions: 8, storage: "memory", maxMsgs: -1 })]);
    expect(relaxed[0]!.action).toBe("unchanged");
  });

  it("ensureStream provisions a definition; the server's error is translated when it cannot", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    // several instances of a service starting at once
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureStream(conn, testStream({ name: "svc" }))));
    expect(results.every((plans) => plans.every((p) => p.action === "create" || p.action === "unchanged"))).toBe(true);
    expect((await ensureStream(conn, testStream({ name: "svc" }))).map((p) => p.action)).toEqual(["unchanged", "unchanged"]);
    // three replicas on one server
    await expect(ensureStream(conn, testStream({ name: "r3", replicas: 3 }))).rejects.toSatisfy((e) => isChronicleError(e) && e.context.stream === "r3");
  });

  it("provisions replicated streams on a 3-node cluster, dead letters with the same replicas", async () => {
    await using cluster = await startLocalCluster({ nodes: 3 });
    await using conn = await connect({ servers: cluster.urls });
    await ensureStream(conn, testStream({ name: "r3", replicas: 3, partitions: 2 }));
    expect((await conn.jsm.streams.info("r3")).config.num_replicas).toBe(3);
    expect((await conn.jsm.streams.info("r3_dlq")).config.num_replicas).toBe(3);
    const down = await applyStreams(conn, [resolveStreamSettings({ name: "r3", replicas: 1, partitions: 2 })]);
    expect(down.map((p) => p.action)).toEqual(["update", "update"]);
    expect((await conn.jsm.streams.info("r3_dlq")).config.num_replicas).toBe(1);
  });
});
