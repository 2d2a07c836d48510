// Issue #22, mixed faults: a seeded random schedule of kills, graceful
// restarts, pauses, nodes cut off and clients cut from nodes (up to two at a
// time) while a producer, and any workloads named in
// CHRONICLE_FAULTS_WORKLOADS, work on an R3 stream; then every promise of
// every workload is checked. The bounded run lasts 25 s; `npm run test:soak
// -- --faults` runs it for minutes. Replay a run with its printed seed:
//   CHRONICLE_FAULTS_SEED=<seed> npx vitest run test/faults/mixed-faults.test.ts
import { describe, expect, it } from "vitest";
import { createFaultSchedule, describeSchedule, runFaultSchedule, type AppliedFault } from "@chronicle/testing";
import { SOAK } from "../reliability/helpers.js";
import { faultSeed, leaderOf } from "./helpers.js";
import { useFaultyCluster } from "./cluster-fixture.js";
import { describeResult, runScenario } from "./scenario.js";
import { WORKLOADS } from "./workload.js";

const DURATION_MS = Number(process.env["CHRONICLE_FAULTS_DURATION_MS"] ?? (SOAK ? 300_000 : 25_000));
const EXTRA = (process.env["CHRONICLE_FAULTS_WORKLOADS"] ?? "stale-producer,group").split(",").filter(Boolean);

const env = useFaultyCluster();

describe("mixed faults, 3 nodes, R3", () => {
  it(
    `a seeded schedule of kills, restarts, pauses and partitions for ${DURATION_MS / 1000} s: every promise holds`,
    { timeout: DURATION_MS + 400_000 },
    async () => {
      const unknown = EXTRA.filter((w) => !(w in WORKLOADS));
      if (unknown.length) throw new Error(`no workload named ${unknown.join(", ")}: known are ${Object.keys(WORKLOADS).join(", ")} (test/faults/workload.ts)`);
      const seed = faultSeed();
      const steps = createFaultSchedule({
        seed,
        durationMs: DURATION_MS,
        nodes: env.cluster.servers.map((s) => s.name),
        clients: ["producer"],
      });
      console.log(
        `mixed faults: seed ${seed} (replay: CHRONICLE_FAULTS_SEED=${seed} CHRONICLE_FAULTS_DURATION_MS=${DURATION_MS}), workloads producer,${EXTRA.join(",")}`,
      );
      console.log(describeSchedule(steps));
      let applied: AppliedFault[] = [];
      const r = await runScenario(env.cluster, env.conn, {
        stream: "mixed",
        workloads: (targets) => EXTRA.map((name, i) => WORKLOADS[name]!({ ...targets, prefix: `w${i}` })),
        // a node restarted while cut off may take minutes to catch up (docs/reliability.md)
        catchUpMs: SOAK ? 240_000 : 20_000,
        lagging: SOAK ? "violation" : "report",
        faultBoundMs: DURATION_MS + 90_000,
        async fault() {
          applied = await runFaultSchedule(env.cluster, steps, { leader: () => leaderOf(env.cluster, "mixed", 5000), log: (l) => console.log(l) });
        },
      });
      const failedSteps = applied.filter((a) => a.error).map((a) => `${a.kind} ${a.target}: ${a.error}`);
      console.log(`${describeResult("mixed faults", r)} seed=${seed} faults=${applied.length}`);
      expect([...r.violations, ...failedSteps], `seed ${seed}`).toEqual([]);
    },
  );
});
