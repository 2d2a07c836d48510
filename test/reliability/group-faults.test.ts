// Consumer groups through faults (issue 17): members SIGKILLed, frozen
// past their session (SIGSTOP, then SIGCONT), and cut off from the server
// (every socket closed, deliveries in flight lost). Per-key order holds in
// each; a handler runs twice only for events the crashed, frozen or cut-off
// member had handled and not yet stored, at most maxUnrecorded (1024) per
// fault.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { checkGroupRun, describeVerdict, type GroupVerdict } from "./group-check.js";
import {
  exited,
  killMember,
  notes,
  noteStream,
  provision,
  publishAll,
  readEffects,
  scaled,
  sleep,
  spawnMember,
  waitFor,
  type MemberConfig,
} from "./helpers.js";
import { startTcpProxy } from "./tcp-proxy.js";

let server: LocalServer;
let conn: ChronicleConnection;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startLocalServer();
  conn = await connect({ servers: server.url });
  dir = mkdtempSync(join(tmpdir(), "chronicle-rel-faults-"));
});
afterAll(async () => {
  for (const c of children) {
    c.kill("SIGCONT");
    await killMember(c);
  }
  await conn?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function stopMembers(members: readonly ChildProcess[]): Promise<void> {
  for (const c of members) c.kill("SIGTERM");
  await Promise.all(members.map((c) => Promise.race([exited(c), sleep(15_000)])));
  for (const c of members) await killMember(c);
}

/** Errors the members wrote to the effects file, one line each. */
function errorLines(file: string, member?: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(member ? `error ${member} ` : "error "));
}

/** Order must hold; repeats only of events first handled by `faulty` members, at most 1024 per fault. */
function expectFaultBound(verdict: GroupVerdict, faulty: ReadonlySet<string>, faults: number, effectsFile: string): void {
  expect(verdict.missing, describeVerdict(verdict)).toEqual([]);
  expect(verdict.outOfOrder, describeVerdict(verdict)).toEqual([]);
  for (const [v, m] of verdict.repeatedFirstBy)
    expect(faulty.has(m), `${v} handled twice, first by ${m}, which had no fault; its errors:\n${errorLines(effectsFile, m).slice(0, 10).join("\n")}`).toBe(
      true,
    );
  expect(verdict.repeated.length).toBeLessThanOrEqual(faults * 1024);
}

describe("consumer group members with faults while events flow", () => {
  const EVENTS = scaled(12_000, 60_000);

  it(
    `SIGKILL: ${EVENTS} events, two members killed and two started: per-key order holds, repeats only of what the killed ones had not stored`,
    { timeout: scaled(180_000, 900_000) },
    async () => {
      const stream = "kills";
      const def = noteStream(stream, 8);
      await provision(conn, def);
      const effectsFile = join(dir, `${stream}.log`);
      const base: Omit<MemberConfig, "memberId"> = {
        servers: [server.url],
        stream,
        partitions: 8,
        group: "g",
        effectsFile,
        store: "state",
        handlerSpinMs: 0.1,
        failoverMs: 2000,
      };
      const members = new Map<string, ChildProcess>();
      const start = async (id: string) => {
        const c = await spawnMember({ ...base, memberId: id });
        children.push(c);
        members.set(id, c);
      };
      await Promise.all(["k1", "k2", "k3"].map(start));
      const killed = new Set<string>();
      const kill = async (id: string) => {
        await killMember(members.get(id)!, "SIGKILL");
        members.delete(id);
        killed.add(id);
      };
      const steps = [() => kill("k1"), () => start("k4"), () => kill("k2"), () => start("k5")];
      const values = notes(EVENTS, 200);
      let next = 0;
      const pub = await publishAll(conn, def, values, {
        window: Math.ceil(EVENTS / 30),
        onProgress: async (done) => {
          if (next < steps.length && done >= ((next + 1) * EVENTS) / (steps.length + 1)) await steps[next++]!();
        },
      });
      expect(pub.failed).toEqual([]);
      const all = await waitFor(() => new Set(readEffects(effectsFile).map((e) => e.v)).size >= EVENTS, 120_000, 250);
      await stopMembers([...members.values()]);
      const verdict = checkGroupRun(readEffects(effectsFile), values);
      console.log(`SIGKILL while events flow: ${EVENTS} events, 2 kills, ${describeVerdict(verdict)}`);
      expect(all, describeVerdict(verdict)).toBe(true);
      expectFaultBound(verdict, killed, killed.size, effectsFile);
    },
  );

  it(
    `SIGSTOP past the session, then SIGCONT: ${EVENTS} events, the frozen member starts nothing after it wakes and gives its partitions up`,
    { timeout: scaled(180_000, 900_000) },
    async () => {
      const stream = "freezes";
      const def = noteStream(stream, 8);
      await provision(conn, def);
      const effectsFile = join(dir, `${stream}.log`);
      // a lease of 1.6 s: long enough that the busy members it is not about keep theirs on a loaded machine
      const base: Omit<MemberConfig, "memberId"> = {
        servers: [server.url],
        stream,
        partitions: 8,
        group: "g",
        effectsFile,
        store: "state",
        handlerSpinMs: 0.1,
        failoverMs: 4000,
      };
      const members = await Promise.all(["f1", "f2", "f3"].map((id) => spawnMember({ ...base, memberId: id })));
      children.push(...members);
      const FREEZE_MS = 6000;
      let stoppedAt = 0;
      let contAt = 0;
      const values = notes(EVENTS, 200);
      const pub = await publishAll(conn, def, values, {
        window: Math.ceil(EVENTS / 30),
        onProgress: async (done) => {
          if (stoppedAt === 0 && done >= EVENTS / 4) {
            await killMember(members[0]!, "SIGSTOP");
            stoppedAt = Date.now();
            setTimeout(() => {
              contAt = Date.now();
              members[0]!.kill("SIGCONT");
            }, FREEZE_MS);
          }
        },
      });
      expect(pub.failed).toEqual([]);
      await waitFor(() => contAt > 0, FREEZE_MS + 10_000);
      const all = await waitFor(() => new Set(readEffects(effectsFile).map((e) => e.v)).size >= EVENTS, 120_000, 250);
      await stopMembers(members);
      const effects = readEffects(effectsFile);
      const verdict = checkGroupRun(effects, values);
      // what the frozen member handled after it woke up: only events of partitions it still held (none were moved away unseen)
      const fenced = errorLines(effectsFile, "f1").filter((l) => l.includes("lost slot"));
      console.log(
        `SIGSTOP ${FREEZE_MS} ms while events flow: ${EVENTS} events, ${describeVerdict(verdict)}, partitions the frozen member found taken: ${fenced.length}`,
      );
      expect(all, describeVerdict(verdict)).toBe(true);
      expectFaultBound(verdict, new Set(["f1"]), 1, effectsFile);
      expect(fenced.length, "the frozen member found its partitions taken when it woke").toBeGreaterThan(0);
    },
  );

  it(
    `a member's connection cut three times (deliveries in flight lost): ${EVENTS} events, per-key order holds`,
    { timeout: scaled(180_000, 900_000) },
    async () => {
      const stream = "cuts";
      const def = noteStream(stream, 8);
      await provision(conn, def);
      const proxy = await startTcpProxy(server.url);
      try {
        const effectsFile = join(dir, `${stream}.log`);
        const base: Omit<MemberConfig, "memberId"> = {
          servers: [server.url],
          stream,
          partitions: 8,
          group: "g",
          effectsFile,
          store: "state",
          handlerSpinMs: 0.1,
          failoverMs: 5000,
        };
        const members = [await spawnMember({ ...base, servers: [proxy.url], memberId: "c1" }), await spawnMember({ ...base, memberId: "c2" })];
        children.push(...members);
        let cuts = 0;
        const values = notes(EVENTS, 200);
        const pub = await publishAll(conn, def, values, {
          window: Math.ceil(EVENTS / 30),
          onProgress: async (done) => {
            if (cuts < 3 && done >= ((cuts + 1) * EVENTS) / 4) {
              proxy.cut();
              cuts++;
            }
          },
        });
        expect(pub.failed).toEqual([]);
        const all = await waitFor(() => new Set(readEffects(effectsFile).map((e) => e.v)).size >= EVENTS, 120_000, 250);
        await stopMembers(members);
        const verdict = checkGroupRun(readEffects(effectsFile), values);
        console.log(`connection cut ${cuts} times while events flow: ${EVENTS} events, ${describeVerdict(verdict)}`);
        expect(cuts).toBe(3);
        expect(all, describeVerdict(verdict)).toBe(true);
        expectFaultBound(verdict, new Set(["c1"]), cuts, effectsFile);
      } finally {
        await proxy.close();
      }
    },
  );
});
