// Issue 17's bug as a test: members of one group started at the same time
// (separate processes) over a backlog. For every key, the first handling of
// each event must follow stream order, and nothing may run twice (no member
// crashes). npm test runs 2 rounds, npm run test:soak 20.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, describeGroup, type ChronicleConnection } from "@chronicle/runtime";
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

describe("consumer group members started together over a backlog", () => {
  const ROUNDS = scaled(2, 20);
  const EVENTS = 30_000;
  const KEYS = 300;

  it(
    `${ROUNDS} rounds of 3 member processes started at once over ${EVENTS} stored events (16 partitions, ${KEYS} keys, ~0.2 ms handlers): per-key order holds and nothing runs twice`,
    { timeout: scaled(600_000, 7_200_000) },
    async () => {
      const summary: string[] = [];
      let violations = 0;
      let repeats = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const stream = `backlog${round}`;
        const def = noteStream(stream, 16);
        await provision(conn, def);
        const values = notes(EVENTS, KEYS);
        const pub = await publishAll(conn, def, values, { window: 5000 });
        expect(pub.failed).toEqual([]);
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
        const members = await Promise.all(["a", "b", "c"].map((id) => spawnMember({ ...base, memberId: `${id}${round}` })));
        children.push(...members);
        const handled = () => new Set(readEffects(effectsFile).map((e) => e.v)).size;
        const all = await waitFor(() => handled() >= EVENTS, 300_000, 250);
        const ms = Date.now() - t0;
        if (!all)
          console.log(
            JSON.stringify(await describeGroup(conn, stream, "g")),
            readFileSync(effectsFile, "utf8")
              .split("\n")
              .filter((l) => l.startsWith("error"))
              .slice(0, 20)
              .join("\n"),
          );
        await stopMembers(members);
        const verdict = checkGroupRun(readEffects(effectsFile), values);
        const line = `round ${round}: drained in ${ms} ms, ${describeVerdict(verdict)}`;
        console.log(`members started together over a backlog: ${line}`);
        summary.push(line);
        expect(all, line).toBe(true);
        violations += verdict.outOfOrder.length;
        repeats += verdict.repeated.length;
      }
      console.log(`members started together over a backlog: ${ROUNDS} rounds, order violations ${violations}, repeats ${repeats}`);
      expect({ violations, repeats }, summary.join("\n")).toEqual({ violations: 0, repeats: 0 });
    },
  );
});
