// Consumer groups through every handover (issue 17): for every key, the
// first handling of each event follows stream order, and rebalances alone
// run no handler twice. Members are separate processes appending each
// effect to one file: members joining and leaving while events flow, and
// groups of 1, 2, 4 and 8 members started at once.
import type { ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { checkGroupRun, describeVerdict } from "./group-check.js";
import { drained, groupSuite, publishWithSteps, startedTogether, stopMembers } from "./group-suite.js";
import { notes, noteStream, provision, readEffects, scaled, type MemberConfig } from "./helpers.js";

const suite = groupSuite("handover");

describe("consumer group members joining and leaving while events flow", () => {
  const EVENTS = scaled(12_000, 60_000);

  it(
    `${EVENTS} events published while members join and leave (SIGTERM): per-key order holds and nothing runs twice`,
    { timeout: scaled(180_000, 900_000) },
    async () => {
      const stream = "churn";
      const def = noteStream(stream, 8);
      await provision(suite.conn, def);
      const effectsFile = suite.file(`${stream}.log`);
      const base: Omit<MemberConfig, "memberId"> = {
        servers: [suite.server.url],
        stream,
        partitions: 8,
        group: "g",
        effectsFile,
        store: "state",
        handlerSpinMs: 0.1,
        failoverMs: 5000,
      };
      const live = new Map<string, ChildProcess>();
      const join_ = async (id: string) => void live.set(id, await suite.spawn({ ...base, memberId: id }));
      const leave = async (id: string) => {
        await stopMembers([live.get(id)!]);
        live.delete(id);
      };
      await join_("m1");
      // one step per sixth of the events: joins and leaves while the windows are in flight
      const steps = [() => join_("m2"), () => join_("m3"), () => leave("m1"), () => join_("m4"), () => leave("m2")];
      const values = notes(EVENTS, 200);
      const pub = await publishWithSteps(suite.conn, def, values, steps);
      expect(pub.failed).toEqual([]);
      const all = await drained(effectsFile, EVENTS, 120_000);
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
      const { verdict, ms, drained } = await startedTogether(suite, {
        stream: `size${count}`,
        partitions: 16,
        events: EVENTS,
        keys: 300,
        memberIds: Array.from({ length: count }, (_, i) => `s${count}m${i}`),
        drainMs: 120_000,
      });
      const line = `${count} member(s): drained in ${ms} ms, ${describeVerdict(verdict)}`;
      console.log(`group sizes: ${line}`);
      lines.push(line);
      expect(drained, line).toBe(true);
      expect({ outOfOrder: verdict.outOfOrder.length, repeated: verdict.repeated.length }, line).toEqual({ outOfOrder: 0, repeated: 0 });
    }
  });
});
