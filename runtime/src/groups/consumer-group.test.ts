import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { startConsumerGroup } from "./start-consumer-group.js";
import { createTestStreams, noteStream, publishNotes, roundRobin } from "./testing/test-stream.js";

const EVENTS = Number(process.env["CHRONICLE_GROUP_TEST_EVENTS"] ?? 50_000);
const KEYS = 500;
const PARTITIONS = 16;

interface Effect {
  m: string;
  p: number;
  k: string;
  v: string;
  s: number;
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("consumer group of 3 members, 16 partitions", () => {
  it(`handles ${EVENTS} events over ${KEYS} keys in per-key order, survives a SIGKILLed member and absorbs redeliveries`, { timeout: 150_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("orders", PARTITIONS);
    await createTestStreams(conn, def);

    const effects: Effect[] = [];
    const dec = new TextDecoder();
    conn.nc.subscribe("effects.orders", {
      callback: (_e, msg) => void effects.push({ ...(JSON.parse(dec.decode(msg.data)) as Omit<Effect, "at">), at: Date.now() }),
    });
    const assignments = new Map<string, number[]>();
    conn.nc.subscribe("assign.orders", {
      callback: (_e, msg) => {
        const a = JSON.parse(dec.decode(msg.data)) as { m: string; ps: number[] };
        assignments.set(a.m, a.ps);
      },
    });

    // The member to kill runs in its own process.
    const script = fileURLToPath(new URL("./testing/member-process.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=@chronicle/source", script, server.url, "orders", String(PARTITIONS), "g", "m-child"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      child.once("exit", (code) => reject(new Error(`member process exited with ${code}`)));
    });

    const enc = new TextEncoder();
    const inProcess = await Promise.all(
      ["m-a", "m-b"].map(async (id) => {
        const c = await connect({ servers: server.url });
        const member = await startConsumerGroup(c, def, {
          group: "g",
          memberId: id,
          onError: () => undefined,
          handlers: {
            Note: async (e, ctx) => {
              c.nc.publish("effects.orders", enc.encode(JSON.stringify({ m: id, p: ctx.partition, k: ctx.key, v: e.value, s: ctx.sequence })));
            },
          },
        });
        return { c, member };
      }),
    );
    // Wait for a stable 3-member view before publishing, so that ownership does not move during the run.
    const t0 = Date.now();
    while (Date.now() - t0 < 15_000 && !(inProcess.every(({ member }) => member.members().length === 3) && assignments.get("m-child")?.length))
      await sleep(100);
    await sleep(1500);
    const childPartitions = assignments.get("m-child") ?? [];
    expect(childPartitions.length).toBeGreaterThanOrEqual(5);
    const owned = inProcess.map(({ member }) => member.partitions());
    expect(owned.flat().length + childPartitions.length).toBe(PARTITIONS);

    const publishing = publishNotes(conn, "orders", roundRobin(EVENTS, KEYS), 1000);
    // Kill the child once it is well into its share.
    const killDeadline = Date.now() + 60_000;
    while (effects.filter((e) => e.m === "m-child").length < EVENTS / 10 && Date.now() < killDeadline) await sleep(20);
    child.kill("SIGKILL");
    const killedAt = Date.now();
    await publishing;

    const distinct = () => new Set(effects.map((e) => e.v)).size;
    const deadline = Date.now() + 90_000;
    while (distinct() < EVENTS && Date.now() < deadline) await sleep(100);
    await sleep(500);

    // Every event handled.
    expect(distinct()).toBe(EVENTS);

    // Per-key order: the first handling of each event comes in the order of the key's events.
    const firstSeen = new Set<string>();
    const lastN = new Map<string, number>();
    let outOfOrder = 0;
    for (const e of effects) {
      if (firstSeen.has(e.v)) continue;
      firstSeen.add(e.v);
      const n = Number(e.v.split(":")[1]);
      if ((lastN.get(e.k) ?? -1) >= n) outOfOrder++;
      lastN.set(e.k, n);
    }
    expect(outOfOrder).toBe(0);

    // One member at a time per partition: handling of a partition never interleaves between
    // members; it moves at most once, at the rebalance after the kill (the child's partitions and
    // the few the sticky assignment moves between the survivors).
    const owners = new Map<number, { m: string; from: number }[]>();
    for (const e of effects) {
      const runs = owners.get(e.p) ?? [];
      if (runs[runs.length - 1]?.m !== e.m) runs.push({ m: e.m, from: e.at });
      owners.set(e.p, runs);
    }
    let moved = 0;
    for (const [p, runs] of owners) {
      expect(runs.length, `partition ${p}: ${runs.map((r) => r.m).join(" -> ")}`).toBeLessThanOrEqual(2);
      if (runs.length === 2) {
        moved++;
        expect(runs[1]!.from).toBeGreaterThan(killedAt);
        if (!childPartitions.includes(p)) expect(runs[0]!.m).not.toBe("m-child");
      }
    }

    // Failover within the 10 s bound: first event of a child partition handled elsewhere after the kill.
    const resumed = effects.find((e) => e.at > killedAt && childPartitions.includes(e.p) && e.m !== "m-child");
    expect(resumed).toBeDefined();
    const failoverMs = resumed!.at - killedAt;
    expect(failoverMs).toBeLessThanOrEqual(10_000);

    // Side effects: redeliveries of events the child had recorded are absorbed by the store; only
    // events whose effect the child made but had not recorded when it died can run twice.
    const byEvent = new Map<string, string[]>();
    for (const e of effects) byEvent.set(e.v, [...(byEvent.get(e.v) ?? []), e.m]);
    const twice = [...byEvent.values()].filter((ms) => ms.length > 1);
    for (const ms of twice) expect(ms[0]).toBe("m-child");
    expect(twice.length).toBeLessThanOrEqual(64); // the child's handler concurrency
    const stats = inProcess.map(({ member }) => member.metrics());
    console.log(
      `events=${EVENTS} effects=${effects.length} distinct=${distinct()} childPartitions=${childPartitions.join(",")} failoverMs=${failoverMs} ` +
        `moved=${moved} doubleEffects=${twice.length} duplicatesAbsorbed=${stats.reduce((a, s) => a + s.duplicates, 0)} wall=${Date.now() - t0}ms`,
    );
    for (const { c, member } of inProcess) {
      await member.stop();
      await c.close();
    }
  });
});
