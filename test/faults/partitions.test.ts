// Issue #22, network partitions: a 3-node cluster whose every route and
// client connection runs through a link that can be cut (a black hole: open
// connections hang, nothing is refused), an R3 stream, a producer
// publishing 1,000 events/s through its own links. Each scenario checks: no
// acknowledged event lost, none stored twice (events acknowledged before the
// fault are re-sent after it and must be recognised), failures only with
// documented codes, every replica the same after the heal, publishing
// resumes after the heal.
import { describe, expect, it } from "vitest";
import { createFaultSchedule, describeSchedule, runFaultSchedule } from "@chronicle/testing";
import { SOAK, scaled } from "../reliability/helpers.js";
import { faultSeed, leaderOf, newLeader, sleep } from "./helpers.js";
import { useFaultyCluster } from "./cluster-fixture.js";
import { describeResult, runScenario } from "./scenario.js";

const env = useFaultyCluster();

/** How long a cut lasts: longer than an election (4-9 s), shorter than the old leader's step-down in the bounded suite. */
const CUT_MS = scaled(8000, 20_000);

describe("network partitions, 3 nodes, R3", () => {
  it(
    `the stream leader cut off from both followers for ${CUT_MS / 1000} s (a minority leader) while its client keeps publishing to it`,
    { timeout: scaled(180_000, 600_000) },
    async () => {
      let elected: { leader: string; ms: number } | undefined;
      const r = await runScenario(env.cluster, env.conn, {
        stream: "minority",
        startAt: "leader",
        async fault({ leader, followers }) {
          await env.cluster.net.partition([leader], followers);
          const cutAt = Date.now();
          elected = await newLeader(env.cluster, "minority", leader);
          await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
        },
      });
      console.log(`${describeResult("minority leader", r)} newLeader=${elected?.leader} electedAfterMs=${elected?.ms}`);
      expect(r.violations).toEqual([]);
    },
  );

  it(`one follower cut off for ${CUT_MS / 1000} s while publishing`, { timeout: scaled(180_000, 600_000) }, async () => {
    const r = await runScenario(env.cluster, env.conn, {
      stream: "follower",
      async fault({ followers }) {
        await env.cluster.net.isolate(
          followers[0]!,
          env.cluster.servers.map((s) => s.name),
        );
        await sleep(CUT_MS);
      },
    });
    console.log(describeResult("follower cut off", r));
    expect(r.violations).toEqual([]);
  });

  it(
    `the producer's client cut off from the stream leader (but not from the followers) for ${CUT_MS / 1000} s`,
    { timeout: scaled(180_000, 600_000) },
    async () => {
      const r = await runScenario(env.cluster, env.conn, {
        stream: "clientsplit",
        startAt: "leader",
        async fault({ leader }) {
          await env.cluster.net.cut("producer", leader);
          await sleep(CUT_MS);
        },
      });
      console.log(describeResult("client cut from the leader", r));
      expect(r.violations).toEqual([]);
      // the client noticed (3 pings 1 s apart), dialled the cut leader again (2 s connection timeout), then a follower
      expect(r.stallMs, "the producer went on through a follower before the heal").toBeLessThan(CUT_MS - 1000);
    },
  );

  const ROUNDS_MS = scaled(20_000, 120_000);
  it(
    `repeated partitions for ${ROUNDS_MS / 1000} s while publishing: nodes cut off and the producer cut from nodes, seeded`,
    { timeout: scaled(300_000, 600_000) },
    async () => {
      const seed = faultSeed();
      const steps = createFaultSchedule({
        seed,
        durationMs: ROUNDS_MS,
        nodes: env.cluster.servers.map((s) => s.name),
        clients: ["producer"],
        kinds: ["isolate", "client-cut"],
        maxFaultMs: 9000,
      });
      console.log(`repeated partitions: seed ${seed} (replay: CHRONICLE_FAULTS_SEED=${seed})\n${describeSchedule(steps)}`);
      const r = await runScenario(env.cluster, env.conn, {
        stream: "repeated",
        async fault() {
          await runFaultSchedule(env.cluster, steps, { leader: () => leaderOf(env.cluster, "repeated", 5000) });
        },
      });
      console.log(`${describeResult("repeated partitions", r)} seed=${seed} faults=${steps.length}`);
      expect(r.violations, `seed ${seed}`).toEqual([]);
    },
  );

  it(
    "the leader cut off, killed and restarted while cut off, a follower of the majority restarted, then healed",
    { timeout: scaled(180_000, 600_000) },
    async () => {
      let detail = "";
      const r = await runScenario(env.cluster, env.conn, {
        stream: "cutrestart",
        startAt: "leader",
        // nats-server 2.15.1 lets the restarted old leader catch up only minutes after the heal
        // (docs/reliability.md, Known problems): asserted in the soak, reported in the bounded suite
        catchUpMs: scaled(15_000, 240_000),
        lagging: SOAK ? "violation" : "report",
        async fault({ leader, followers }) {
          await env.cluster.net.partition([leader], followers);
          const elected = await newLeader(env.cluster, "cutrestart", leader);
          // the old leader comes back still cut off, with whatever it appended and never committed
          await env.cluster.server(leader).kill("SIGKILL");
          await env.cluster.server(leader).restart({ waitReady: false });
          // the majority loses a member for the time of a restart: no quorum anywhere meanwhile
          const other = followers.find((f) => f !== elected.leader)!;
          await env.cluster.server(other).kill("SIGKILL");
          await env.cluster.server(other).restart();
          await sleep(2000);
          detail = `newLeader=${elected.leader} electedAfterMs=${elected.ms} restarted=${leader},${other}`;
        },
      });
      console.log(`${describeResult("cut, restart, heal", r)} ${detail}`);
      expect(r.violations).toEqual([]);
    },
  );
});
