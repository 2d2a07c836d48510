// Issue 17's bug as a test: members of one group started at the same time
// (separate processes) over a backlog. For every key, the first handling of
// each event must follow stream order, and nothing may run twice (no member
// crashes). npm test runs 2 rounds, npm run test:soak 20.
import { describe, expect, it } from "vitest";
import { describeVerdict } from "./group-check.js";
import { groupSuite, startedTogether } from "./group-suite.js";
import { scaled } from "./helpers.js";

const suite = groupSuite("backlog");

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
        // the default failover bound (10 s): a lease of 4 s, so that a member a loaded machine does not
        // schedule for a moment keeps its partitions (the schedule is about handovers, not stalls)
        const { verdict, ms, drained } = await startedTogether(suite, {
          stream: `backlog${round}`,
          partitions: 16,
          events: EVENTS,
          keys: KEYS,
          memberIds: ["a", "b", "c"].map((id) => `${id}${round}`),
          failoverMs: 10_000,
          drainMs: 300_000,
        });
        const line = `round ${round}: drained in ${ms} ms, ${describeVerdict(verdict)}`;
        console.log(`members started together over a backlog: ${line}`);
        summary.push(line);
        expect(drained, line).toBe(true);
        violations += verdict.outOfOrder.length;
        repeats += verdict.repeated.length;
      }
      console.log(`members started together over a backlog: ${ROUNDS} rounds, order violations ${violations}, repeats ${repeats}`);
      expect({ violations, repeats }, summary.join("\n")).toEqual({ violations: 0, repeats: 0 });
    },
  );
});
