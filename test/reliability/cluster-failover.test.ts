// A 3-node cluster, streams and KV buckets with 3 replicas; the stream leader SIGKILLed under load, dead letters
// while members and leaders die, then every node SIGKILLed at once.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistryClient, startRegistryServer, type RegistryClient, type RegistryServer } from "@chronicle/registry";
import { connect, startConsumerGroup, wrapConnection, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalCluster, type LocalCluster } from "@chronicle/testing";
import { messageSet } from "../../registry/src/testing/schemas.js";
import { fromBinary } from "@bufbuild/protobuf";
import { connect as natsConnect } from "@nats-io/transport-node";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { checkGroupRun, describeVerdict } from "./group-check.js";
import {
  type Effect,
  killMember,
  notes,
  noteStream,
  publishAll,
  readEffects,
  scaled,
  sleep,
  spawnMember,
  storedCounts,
  waitFor,
  provision,
  watchLeaderElections,
} from "./helpers.js";

let cluster: LocalCluster;
let conn: ChronicleConnection;
let registry: RegistryServer;
let client: RegistryClient;
let dir: string;
const children: ChildProcess[] = [];
const TOKEN = "admin-token-0123456789abcdef";
/** Every event acknowledged by any test of this file, per stream, for the all-nodes crash at the end. */
const acknowledged = new Map<string, Set<string>>();

beforeAll(async () => {
  cluster = await startLocalCluster({ nodes: 3 });
  conn = await connect({ servers: cluster.urls, name: "reliability" });
  registry = await startRegistryServer({ nats: cluster.urls, replicas: 3, auth: { tokens: [{ name: "ops", role: "admin", token: TOKEN }] } });
  client = createRegistryClient({ baseUrl: registry.url, token: TOKEN, timeoutMs: 5000 });
  dir = mkdtempSync(join(tmpdir(), "chronicle-rel-cluster-"));
}, 90_000);
afterAll(async () => {
  for (const c of children) await killMember(c);
  client?.close();
  await registry?.close();
  await conn?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function leaderOf(stream: string): Promise<string> {
  const leader = (await conn.jsm.streams.info(stream)).cluster?.leader;
  if (!leader) throw new Error(`stream ${stream} has no leader`);
  return leader;
}

/** Retries a registry call until it succeeds; returns how long it took. */
async function untilOk<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      return { value: await call(), ms: Date.now() - t0 };
    } catch (err) {
      last = err;
      await sleep(200);
    }
  }
  throw last;
}

describe("3-node cluster, 3 replicas", () => {
  const EVENTS = scaled(20_000, 100_000);

  it(
    `stream leader SIGKILLed while ${EVENTS} events are published and consumed: none lost, none stored twice, consumers and registry go on`,
    { timeout: 240_000 },
    async () => {
      const def = noteStream("fail", 8, 3);
      // set-up only: JetStream API calls can time out on a loaded 2-core machine
      await untilOk(() => provision(conn, def));
      await untilOk(() => client.register("rel.v1.Order", messageSet("rel.v1.Order", [{ name: "id", number: 1 }])));

      const effects: Effect[] = [];
      /** The members' errors, for the failure message: which partitions stopped, and why. */
      const memberErrors: string[] = [];
      const members = await Promise.all(
        ["a", "b"].map(async (id) => {
          const c = await connect({ servers: cluster.urls, name: `member-${id}` });
          const { value: member } = await untilOk(() =>
            startConsumerGroup(c, def, {
              group: "g",
              memberId: id,
              onError: (err) => void memberErrors.push(`${Date.now()} ${id}: ${(err as Error).message}`),
              handlers: { Note: async (e, ctx) => void effects.push({ m: id, v: e.value, p: ctx.partition, s: ctx.sequence, at: Date.now() }) },
            }),
          );
          return { c, member };
        }),
      );

      const values = notes(EVENTS, 200);
      let killed: { node: string; at: number } | undefined;
      let elected: Promise<{ value: string; ms: number }> | undefined;
      let registryCalls: Promise<[{ value: { version: number }; ms: number }, { value: { version: number }; ms: number }]> | undefined;
      // The producer's connection goes to the leader first, so that acknowledgements on their way
      // through the node die with it: committed events whose ack is lost are retried, and only the
      // duplicate window keeps them from being stored twice.
      const firstLeader = await leaderOf("fail");
      const ordered = [cluster.server(firstLeader).url, ...cluster.urls.filter((u) => u !== cluster.server(firstLeader).url)];
      await using producerConn = await wrapConnection(
        await natsConnect({ servers: ordered, noRandomize: true, maxReconnectAttempts: -1, reconnectTimeWait: 250 }),
      );
      // One window of every event: the producer keeps 2000 publishes in flight without a pause, so
      // the kill lands while some are on the wire, some proposed to the followers, some committed
      // with their acks on the way. Those committed but unacknowledged are retried after the
      // election: the duplicate window is all that keeps them from being stored twice
      // (CHRONICLE_RELIABILITY_BREAK=dedup shrinks it, and this test must then fail).
      let pendingAtKill = 0;
      let ackedBeforeKill: string[] = [];
      // the elections as the cluster announces them, seen from a node that survives the kill
      await using watcher = await connect({ servers: ordered[1]!, name: "elections" });
      const elections = watchLeaderElections(watcher, "fail");
      const pub = await publishAll(producerConn, def, values, {
        window: EVENTS,
        // the runtime's default: the producer must not wait for it after the election
        ackTimeoutMs: 5000,
        onProgress: async (_done, sofar) => {
          const settled = () => sofar.acked.size + sofar.failed.length;
          if (!(await waitFor(() => settled() >= EVENTS / 4, 120_000, 2))) throw new Error(`only ${settled()} of ${EVENTS} settled before the kill`);
          if (!killed) {
            const node = await leaderOf("fail");
            await cluster.server(node).kill("SIGKILL");
            pendingAtKill = EVENTS - settled();
            ackedBeforeKill = [...sofar.acked.keys()].slice(-1000);
            killed = { node, at: Date.now() };
            // measured from the kill, while the producer and consumers are busy
            elected = untilOk(async () => {
              const l = await leaderOf("fail");
              if (l === node) throw new Error("old leader still reported");
              return l;
            });
            // the registry serves reads and writes with one node down
            registryCalls = Promise.all([
              untilOk(() => client.getLatestVersion("rel.v1.Order")),
              untilOk(() =>
                client.register(
                  "rel.v1.Order",
                  messageSet("rel.v1.Order", [
                    { name: "id", number: 1 },
                    { name: "note", number: 2 },
                  ]),
                ),
              ),
            ]);
          }
        },
      });
      expect(killed).toBeDefined();
      const { node, at: killedAt } = killed!;
      const newLeader = await elected!;
      expect(newLeader.value).not.toBe(node);
      // the producer follows the new leader within a second of its election, not at its next ack timeout
      elections.stop();
      const announced = elections.elections.find((e) => e.at > killedAt && e.leader !== node);
      expect(announced, "the new leader's election was announced").toBeDefined();
      const electedAfterMs = announced!.at - killedAt;
      console.log(`leader kill: election announced ${electedAfterMs} ms after the kill, producer stall ${pub.maxAckGapMs} ms (ack timeout 5000 ms)`);
      expect(pub.maxAckGapMs, `producer stall ${pub.maxAckGapMs} ms, election announced ${electedAfterMs} ms after the kill`).toBeLessThanOrEqual(
        electedAfterMs + 1000,
      );
      const [read, write] = await registryCalls!;
      expect(read.value.version).toBe(1);
      expect(write.value.version).toBe(2);

      // nothing acknowledged lost, nothing stored twice
      expect(pub.failed.slice(0, 3).map((f) => `${f.value}: ${f.error.message}`)).toEqual([]);
      acknowledged.set("fail", new Set(pub.acked.keys()));
      // Whether a retry of this run found its first attempt committed depends on where the kill
      // fell; this part does not: the last 1000 events the old leader acknowledged are sent again
      // with the same dedup keys after the election, as a producer that lost those acks would.
      // The new leader must know their ids from the old leader's term and store none again.
      const again = await publishAll(producerConn, def, ackedBeforeKill, { window: ackedBeforeKill.length });
      expect(again.failed.slice(0, 3).map((f) => `${f.value}: ${f.error.message}`)).toEqual([]);
      const storedAgain = [...again.acked.entries()].filter(([, r]) => !r.duplicate).map(([v]) => v);
      const stored = await storedCounts(conn, "fail");
      const lost = [...pub.acked.keys()].filter((v) => !stored.has(v));
      const twice = [...stored.entries()].filter(([, n]) => n > 1);
      // publishes sent more than once, and those whose retry found an earlier attempt stored
      // (committed, ack lost): the cases only the duplicate window keeps single
      const retried = [...pub.acked.values()].filter((r) => r.attempts > 1);
      const retriedFoundStored = retried.filter((r) => r.duplicate).length;
      console.log(
        `leader kill: publishes pending at the kill ${pendingAtKill} (at most 2000 in flight), retried ${retried.length}, ` +
          `retried and found already stored ${retriedFoundStored}, acknowledged before the kill and sent again ${ackedBeforeKill.length}, ` +
          `stored again ${storedAgain.length}, stored twice ${twice.length}${twice.length ? ` (e.g. ${twice.slice(0, 3).join(" ")})` : ""}`,
      );
      expect(pendingAtKill, "the kill landed while publishes were in flight").toBeGreaterThan(0);
      expect(ackedBeforeKill.length).toBe(1000);
      expect(lost).toEqual([]);
      expect(twice, `${twice.length} events stored twice`).toEqual([]);
      expect(storedAgain, `${storedAgain.length} of the events acknowledged before the kill stored again`).toEqual([]);
      expect((await conn.jsm.streams.info("fail")).state.messages).toBe(EVENTS);

      // consumers go on after the new leader is elected
      const handled = () => new Set(effects.map((e) => e.v)).size;
      const drained = await waitFor(() => handled() === EVENTS, 120_000, 200);
      if (!drained) {
        // what the next occurrence should tell (seen in 2 CI runs on 2026-12-03, not understood yet)
        const lastByPartition = new Map<number, Effect>();
        for (const e of effects) lastByPartition.set(e.p, e);
        console.log(
          `leader kill, consumers stalled: last handling per partition ${JSON.stringify([...lastByPartition.values()].map((e) => [e.p, e.m, e.s, e.at - killed!.at]))}; ` +
            `owners now ${JSON.stringify(members.map(({ member }) => [member.id, member.partitions()]))}; ` +
            `errors (${memberErrors.length}, last 15): ${memberErrors.slice(-15).join(" | ")}`,
        );
      }
      expect(drained, `handled ${handled()} of ${EVENTS}`).toBe(true);
      const consumeResumed = effects.find((e) => e.at > killedAt + 50);
      // per-key order of first handlings holds through the election
      const verdict = checkGroupRun(effects, values);
      expect(verdict.outOfOrder, describeVerdict(verdict)).toEqual([]);
      const repeated = effects.length - handled();

      // the killed node comes back and catches up
      const restartAt = Date.now();
      await cluster.server(node).restart();
      const caughtUp = await waitFor(
        async () => {
          const info = await conn.jsm.streams.info("fail");
          const replicas = info.cluster?.replicas ?? [];
          return replicas.length === 2 && replicas.every((r) => r.current && (r.lag ?? 0) === 0);
        },
        60_000,
        250,
      );
      expect(caughtUp, "restarted node current with lag 0").toBe(true);
      const catchUpMs = Date.now() - restartAt;
      console.log(
        `leader kill: events=${EVENTS} killed=${node} newLeader=${newLeader.value} newLeaderSeenAfterMs=${newLeader.ms} electionAnnouncedAfterMs=${electedAfterMs} producerStallMs=${pub.maxAckGapMs} ` +
          `lost=${lost.length} storedTwice=${twice.length} consumeResumedAfterMs=${consumeResumed ? consumeResumed.at - killedAt : -1} ` +
          `redeliveredEffects=${repeated} outOfOrder=${verdict.outOfOrder.length} registryReadMs=${read.ms} registryWriteMs=${write.ms} catchUpMs=${catchUpMs}`,
      );
      for (const { c, member } of members) {
        await member.stop();
        await c.close();
      }
    },
  );

  it(
    "dead letters while members and the stream leader are killed: each exhausted event reaches the dead-letter stream exactly once",
    { timeout: 180_000 },
    async () => {
      const COUNT = scaled(300, 2000);
      const def = noteStream("dlqf", 4, 3);
      await untilOk(() => provision(conn, def));
      const effectsFile = join(dir, "dlq-effects.log");
      const base = { servers: cluster.urls, stream: "dlqf", partitions: 4, replicas: 3, group: "g", effectsFile, store: "kv" as const };
      const cfg = { ...base, alwaysFail: true, maxAttempts: 3, failoverMs: 2000 };
      const spawned = [await spawnMember({ ...cfg, memberId: "d1" }), await spawnMember({ ...cfg, memberId: "d2" })];
      children.push(...spawned);
      const values = notes(COUNT, 30, "d");
      const pub = await publishAll(conn, def, values, { window: 100 });
      expect(pub.failed).toEqual([]);
      acknowledged.set("dlqf", new Set(pub.acked.keys()));
      const dlqCount = async () => (await conn.jsm.streams.info("dlqf_dlq")).state.messages;

      // faults: kill a member, kill the stream leader, start another member, restart the node
      await waitFor(async () => (await dlqCount()) >= COUNT / 5, 60_000, 200);
      await killMember(spawned[0]!);
      const leader = await leaderOf("dlqf");
      await cluster.server(leader).kill("SIGKILL");
      await untilOk(async () => {
        if ((await leaderOf("dlqf")) === leader) throw new Error("no new leader yet");
      });
      // right after a leader kill JetStream may not answer yet, and connect() then fails (reported): retry the start
      const { value: d3 } = await untilOk(() => spawnMember({ ...cfg, memberId: "d3" }), 60_000);
      children.push(d3);
      await waitFor(async () => (await dlqCount().catch(() => 0)) >= COUNT / 2, 60_000, 200);
      await killMember(spawned[1]!);
      await cluster.server(leader).restart();
      const done = await waitFor(async () => (await dlqCount().catch(() => 0)) >= COUNT, 120_000, 250);
      await sleep(3000); // a late duplicate would show up here
      d3.kill("SIGTERM");

      const counts = new Map<string, number>();
      const oc = await conn.js.consumers.get("dlqf_dlq");
      const total = await dlqCount();
      const it = await oc.consume();
      let n = 0;
      for await (const m of it) {
        const v = fromBinary(StringValueSchema, m.data).value;
        counts.set(v, (counts.get(v) ?? 0) + 1);
        if (++n >= total) break;
      }
      await it.close();
      const missing = values.filter((v) => !counts.has(v));
      const twice = [...counts.entries()].filter(([, c]) => c > 1);
      const attempts = readEffects(effectsFile).length;
      console.log(
        `dead letters under faults: events=${COUNT} deadLetters=${total} missing=${missing.length} twice=${twice.length} handlerAttempts=${attempts}`,
      );
      expect(done).toBe(true);
      expect(missing).toEqual([]);
      expect(twice, `${twice.length} events dead-lettered more than once`).toEqual([]);
    },
  );

  it(
    "every node SIGKILLed at once and restarted: streams, consumers, the registry's bucket and every acknowledged event are there",
    { timeout: 120_000 },
    async () => {
      for (const c of children) await killMember(c);
      const before = new Map<string, number>();
      for (const s of ["fail", "dlqf", "dlqf_dlq"]) before.set(s, (await conn.jsm.streams.info(s)).state.messages);
      const consumersBefore = (await conn.jsm.consumers.list("fail").next()).map((c) => c.name).sort();
      const t0 = Date.now();
      await Promise.all(cluster.servers.map((s) => s.kill("SIGKILL")));
      await Promise.all(cluster.servers.map((s) => s.restart()));
      const restartMs = Date.now() - t0;
      // streams, with every acknowledged event, and their consumers
      const back = await untilOk(async () => {
        for (const [s, n] of before) {
          const info = await conn.jsm.streams.info(s);
          if (!info.cluster?.leader || info.state.messages !== n) throw new Error(`${s}: ${info.state.messages} of ${n}`);
        }
        return true;
      }, 60_000);
      expect(back.value).toBe(true);
      // consumers come back as their own raft groups elect leaders; the list is partial until then
      const consumersBack = await untilOk(async () => {
        const names = (await conn.jsm.consumers.list("fail").next()).map((c) => c.name).sort();
        if (names.length < consumersBefore.length) throw new Error(`${names.length} of ${consumersBefore.length} consumers`);
        return names;
      }, 60_000).catch(async () => ({ value: (await conn.jsm.consumers.list("fail").next()).map((c) => c.name).sort(), ms: -1 }));
      const consumersAfter = consumersBack.value;
      expect(consumersAfter).toEqual(consumersBefore);
      const stored = await storedCounts(conn, "fail");
      const lost = [...(acknowledged.get("fail") ?? [])].filter((v) => !stored.has(v));
      expect(lost).toEqual([]);
      // the registry's KV bucket: every version still served
      const versions = await untilOk(() => client.listVersions("rel.v1.Order"), 60_000);
      expect(versions.value).toEqual([1, 2]);
      console.log(
        `all nodes killed: restartMs=${restartMs} streamsBackMs=${back.ms} registryBackMs=${versions.ms} lost=${lost.length} consumers=${consumersAfter.length} consumersBackMs=${consumersBack.ms}`,
      );
    },
  );
});
