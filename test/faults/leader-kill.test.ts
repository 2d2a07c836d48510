// Issue #22, producer failover: the stream leader SIGKILLed while a producer
// publishes through a follower.
// Its connection stays up, so nothing but the stream's leader-elected
// advisory tells it that what it sent to the dead leader is gone: it must
// send those publishes again within a second of the election (not at its
// next ack timeout), and nothing may be lost or stored twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type ChronicleConnection } from "@chronicle/runtime";
import { startFaultyCluster, type FaultyCluster } from "@chronicle/testing";
import { watchLeaderElections } from "../reliability/helpers.js";
import { newLeader, waitFor } from "./helpers.js";
import { describeResult, runScenario } from "./scenario.js";

let cluster: FaultyCluster;
let conn: ChronicleConnection;

beforeAll(async () => {
  cluster = await startFaultyCluster({ nodes: 3 });
  conn = await connect({ servers: cluster.urls, name: "checks" });
}, 90_000);
afterAll(async () => {
  await conn?.close();
  await cluster?.stop();
}, 60_000);

/**
 * The producer's ack timeout: longer than any election (4-9 s), so that a
 * producer that waited for it would stall for it whenever the election
 * falls. With the runtime's default (5 s) and a steady stream of publishes,
 * an election that ends just after a multiple of 5 s hides the wait.
 */
const ACK_TIMEOUT_MS = 15_000;
/** The promise: the longest gap between acknowledgements is at most the election time plus this. */
const AFTER_ELECTION_MS = 1000;

describe("producer failover, 3 nodes, R3", () => {
  it(
    "the stream leader SIGKILLed while a producer on a follower publishes: it resends within a second of the election, nothing lost or stored twice",
    { timeout: 180_000 },
    async () => {
      let killedAt = 0;
      let electedAfterMs = -1;
      let elected: { leader: string; ms: number } | undefined;
      const r = await runScenario(cluster, conn, {
        stream: "killed",
        startAt: "follower",
        ackTimeoutMs: ACK_TIMEOUT_MS,
        async fault({ leader, followers }) {
          // announced elections, seen by a client on a node that survives
          const watcher = await connect({ servers: cluster.server(followers[1]!).url, name: "elections" });
          const watch = watchLeaderElections(watcher, "killed");
          try {
            await cluster.server(leader).kill("SIGKILL");
            killedAt = Date.now();
            elected = await newLeader(cluster, "killed", leader);
            await waitFor(() => watch.elections.some((e) => e.leader !== leader), 10_000);
            const announced = watch.elections.find((e) => e.leader !== leader);
            // the advisory's arrival, or (missed) the first poll that saw a majority name the new leader
            electedAfterMs = announced ? announced.at - killedAt : elected.ms;
          } finally {
            watch.stop();
            await watcher.close();
          }
          await cluster.server(leader).restart();
        },
      });
      console.log(
        `${describeResult("leader killed", r)} newLeader=${elected?.leader} electedAfterMs=${electedAfterMs} polledAfterMs=${elected?.ms} ` +
          `ackTimeoutMs=${ACK_TIMEOUT_MS} stallBeyondElectionMs=${r.stallMs - electedAfterMs}`,
      );
      expect(r.violations).toEqual([]);
      expect(electedAfterMs).toBeGreaterThan(0);
      expect(r.stallMs, `stall ${r.stallMs} ms, election ${electedAfterMs} ms after the kill`).toBeLessThanOrEqual(electedAfterMs + AFTER_ELECTION_MS);
      // Publishes made during the election are refused with "no responders" (no replica takes the
      // subject without a leader) and retried every 250 ms, so acknowledgements may resume soon
      // after the election either way; those in flight to the leader when it died get no answer at
      // all, and only the advisory (or the ack timeout) sends them again. So: the last of the
      // publishes called before the kill is acknowledged within a second of the election.
      const lastAckAfterElectionMs = r.lastAckOfCalledBefore(killedAt) - (killedAt + electedAfterMs);
      console.log(`publishes in flight at the kill: the last acknowledged ${lastAckAfterElectionMs} ms after the election`);
      expect(lastAckAfterElectionMs, `a publish in flight at the kill was acknowledged ${lastAckAfterElectionMs} ms after the election`).toBeLessThanOrEqual(
        AFTER_ELECTION_MS,
      );
    },
  );
});
