// Issue #22, paused nodes: the stream leader frozen with SIGSTOP for longer
// than an election takes (a stalled VM, a long GC or I/O pause), then woken
// with SIGCONT while clients still send to it. A leader that wakes up must
// not acknowledge writes that are then lost: a client that knows only that
// node publishes before, during and after the pause, and every
// acknowledgement it got is checked against the stream.
import { describe, expect, it } from "vitest";
import { scaled } from "../reliability/helpers.js";
import { newLeader, sleep } from "./helpers.js";
import { useFaultyCluster } from "./cluster-fixture.js";
import { describeResult, runScenario } from "./scenario.js";
import { producerWorkload } from "./workload.js";

const env = useFaultyCluster();

/** Longer than the longest election timeout (9 s), so that the others elect a new leader meanwhile. */
const PAUSE_MS = scaled(12_000, 30_000);

describe("paused nodes, 3 nodes, R3", () => {
  it(
    `the stream leader SIGSTOPped for ${PAUSE_MS / 1000} s while publishing, then SIGCONT: nothing it acknowledges is lost`,
    { timeout: scaled(180_000, 600_000) },
    async () => {
      let elected: { leader: string; ms: number } | undefined;
      const r = await runScenario(env.cluster, env.conn, {
        stream: "paused",
        startAt: "leader",
        // a second client that only knows the leader: it keeps sending to the frozen node and is the first to talk to it when it wakes
        workloads: ({ leader }) => [producerWorkload({ client: "stale", prefix: "s", startAt: leader, only: true, ratePerSec: 200 })],
        async fault({ leader }) {
          const t0 = Date.now();
          await env.cluster.pause(leader);
          elected = await newLeader(env.cluster, "paused", leader);
          await sleep(Math.max(0, PAUSE_MS - (Date.now() - t0)));
        },
      });
      console.log(`${describeResult("leader paused", r)} newLeader=${elected?.leader} electedAfterMs=${elected?.ms}`);
      expect(r.violations).toEqual([]);
    },
  );
});
