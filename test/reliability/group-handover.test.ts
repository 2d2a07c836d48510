// Consumer groups through every handover (issue 17): for every key, the
// first handling of each event follows stream order, and rebalances alone
// run no handler twice. Members are separate processes appending each
// effect to one file: members joining and leaving while events flow, and
// groups of 1, 2, 4 and 8 members started at once.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { checkGroupRun, describeVerdict } from "./group-check.js";
import { exited, killMember, notes, noteStream, provision, publishAll, readEffects, scaled, spawnMember, waitFor, type MemberConfig } from "./helpers.js";

let server: LocalServer;
let conn: ChronicleConnection;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startLocalServer();
  conn = await connect({ servers: server.url });
  dir = mkdtempSync(join(tmpdir(), "chronicle-rel-handover-"));
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

/** Stops member processes gracefully (SIGTERM: they hand their partitions over), SIGKILL after 15 s. */
async function stopMembers(members: readonly ChildProcess[]): Promise<void> {
  for (const c of members) c.kill("SIGTERM");
  await Promise.all(members.map((c) => Promise.race([exited(c), new Promise((r) => setTimeout(r, 15_000))])));
  for (const c of members) await killMember(c);
}

describe("consumer group members joining and leaving while events flow", () => {
  const EVENTS = scaled(12_000, 60_000);

  it(
    `${EVENTS} events published while members join and leave (SIGTERM): per-key order holds and nothing runs twice`,
    { timeout: scaled(180_000, 900_000) },
    async () => {
      const stream = "churn";
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
        failoverMs: 5000,
      };
      const live = new Map<string, ChildProcess>();
      const join_ = async (id: string) => {
        const c = await spawnMember({ ...base, memberId: id });
        children.push(c);
        live.set(id, c);
      };
      const leave = async (id: string) => {
        await stopMembers([live.get(id)!]);
        live.delete(id);
      };
      await join_("m1");
      // one step per sixth of the events: joins and leaves while the windows are in flight
      const steps = [() => join_("m2"), () => join_("m3"), () => leave("m1"), () => join_("m4"), () => leave("m2")];
      const values = notes(EVENTS, 200);
      let next = 0;
      const pub = await publishAll(conn, def, values, {
        window: Math.ceil(EVENTS / 30),
        onProgress: async (done) => {
          if (next < steps.length && done >= ((next + 1) * EVENTS) / (steps.length + 1)) await steps[next++]!();
        },
      });
      expect(pub.failed).toEqual([]);
      const handled = () => new Set(readEffects(effectsFile).map((e) => e.v)).size;
      const all = await waitFor(() => handled() >= EVENTS, 120_000, 250);
      await stopMembers([...live.values()]);
      const verdict = checkGroupRun(readEffects(effectsFile), values);
      console.log(`members joining and leaving while events flow: ${EVENTS} events, ${describeVerdict(verdict)}`);
      expect(all, describeVerdict(verdict)).toBe(true);
      expect({ outOfOrder: verdict.outOfOrder.length, repeated: verdict.repeated.length }).toEqual({ outOfOrder: 0, repeated: 0 });
    },
  );
});

describe("consumer groups of 1, 2, 4 and 8 members", () => {
  const EVENTS = scaled(4_000, 30_000);

  it(`each started at once over ${EVENTS} stored events: per-key order holds and nothing runs twice`, { timeout: scaled(240_000, 1_200_000) }, async () => {
    const lines: string[] = [];
    for (const count of [1, 2, 4, 8]) {
      const stream = `size${count}`;
      const def = noteStream(stream, 16);
      await provision(conn, def);
      const values = notes(EVENTS, 300);
      expect((await publishAll(conn, def, values, { window: 3000 })).failed).toEqual([]);
      const effectsFile = join(dir, `${stream}.log`);
      const base: Omit<MemberConfig, "memberId"> = {
        servers: [server.url],
        stream,
        partitions: 16,
        group: "g",
        effectsFile,
        store: "state",
        handlerSpinMs: 0.2,
      };
      const t0 = Date.now();
      const members = await Promise.all(Array.from({ length: count }, (_, i) => spawnMember({ ...base, memberId: `s${count}m${i}` })));
      children.push(...members);
      const all = await waitFor(() => new Set(readEffects(effectsFile).map((e) => e.v)).size >= EVENTS, 120_000, 250);
      const ms = Date.now() - t0;
      await stopMembers(members);
      const verdict = checkGroupRun(readEffects(effectsFile), values);
      const line = `${count} member(s): drained in ${ms} ms, ${describeVerdict(verdict)}`;
      console.log(`group sizes: ${line}`);
      lines.push(line);
      expect(all, line).toBe(true);
      expect({ outOfOrder: verdict.outOfOrder.length, repeated: verdict.repeated.length }, line).toEqual({ outOfOrder: 0, repeated: 0 });
    }
  });
});
