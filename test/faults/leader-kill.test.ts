// Issue #22, failover within a second of the election: the stream leader
// SIGKILLed while a producer publishes through a follower and a consumer
// group of two members handles the stream.
// The producer's connection stays up, so nothing but the stream's
// leader-elected advisory tells it that what it sent to the dead leader is
// gone: it must send those publishes again within a second of the election
// (not at its next ack timeout), and nothing may be lost or stored twice.
// The group's time to go on after the elections (the stream's and its
// state stream's) is measured and printed, not yet promised
// (docs/reliability.md, F17).
import { describe, expect, it } from "vitest";
import { connect } from "@chronicle/runtime";
import { watchLeaderElections } from "../reliability/helpers.js";
import { groupWorkload } from "./group-workload.js";
import { leadOn, newLeader, waitFor } from "./helpers.js";
import { useFaultyCluster } from "./cluster-fixture.js";
import { describeResult, runScenario } from "./scenario.js";

const env = useFaultyCluster();

/**
 * The producer's ack timeout: longer than any election (4-9 s), so that a
 * producer that waited for it would stall for it whenever the election
 * falls. With the runtime's default (5 s) and a steady stream of publishes,
 * an election that ends just after a multiple of 5 s hides the wait.
 */
const ACK_TIMEOUT_MS = 15_000;
/** The promise: the longest gap between acknowledgements is at most the election time plus this. */
const AFTER_ELECTION_MS = 1000;

describe("failover, 3 nodes, R3", () => {
  // The group also waits for its state stream (its records and leases), which elects a leader of its
  // own when the node killed led it too: both schedules, the state stream led elsewhere and by that node.
  for (const [stream, stateLed] of [
    ["killed", "elsewhere"],
    ["killed2", "by the same node"],
  ] as const) {
    it(
      `the stream leader SIGKILLed while a producer on a follower publishes and a group consumes (its state stream led ${stateLed}): the producer goes on within a second of the election, nothing lost or stored twice`,
      { timeout: 180_000 },
      async () => {
        const STATE_STREAM = `chronicle_state_${stream}`;
        let killedAt = 0;
        let electedAfterMs = -1;
        /** When the group's state stream had a new leader (0: its leader was not the node killed). */
        let stateElectedAfterMs = -1;
        let elected: { leader: string; ms: number } | undefined;
        const group = groupWorkload();
        const r = await runScenario(env.cluster, env.conn, {
          stream,
          startAt: "follower",
          ackTimeoutMs: ACK_TIMEOUT_MS,
          workloads: () => [group],
          async fault({ leader, followers }) {
            // announced elections, seen by a client on a node that survives
            const watcher = await connect({ servers: env.cluster.server(followers[1]!).url, name: "elections" });
            const watch = watchLeaderElections(watcher, stream);
            await leadOn(env.conn, STATE_STREAM, stateLed === "elsewhere" ? followers[0]! : leader);
            const stateLeader = (await env.conn.jsm.streams.info(STATE_STREAM)).cluster?.leader;
            const stateWatch = watchLeaderElections(watcher, STATE_STREAM);
            try {
              await env.cluster.server(leader).kill("SIGKILL");
              killedAt = Date.now();
              elected = await newLeader(env.cluster, stream, leader);
              await waitFor(() => watch.elections.some((e) => e.leader !== leader), 10_000);
              const announced = watch.elections.find((e) => e.leader !== leader);
              // the advisory's arrival, or (missed) the first poll that saw a majority name the new leader
              electedAfterMs = announced ? announced.at - killedAt : elected.ms;
              stateElectedAfterMs = 0;
              if (stateLeader === leader) {
                await waitFor(() => stateWatch.elections.some((e) => e.leader !== leader), 20_000);
                const stateAnnounced = stateWatch.elections.find((e) => e.leader !== leader);
                stateElectedAfterMs = stateAnnounced ? stateAnnounced.at - killedAt : (await newLeader(env.cluster, STATE_STREAM, leader)).ms;
              }
            } finally {
              watch.stop();
              stateWatch.stop();
              await watcher.close();
            }
            await env.cluster.server(leader).restart();
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
        // the group: its longest time without a handled event across the kill, against the same bound
        // from the later of the two elections it waits for (the stream it reads, and its state stream)
        const groupElectedAfterMs = Math.max(electedAfterMs, stateElectedAfterMs);
        const groupStallMs = group.longestStall(killedAt, killedAt + groupElectedAfterMs + AFTER_ELECTION_MS + 1);
        console.log(
          `publishes in flight at the kill: the last acknowledged ${lastAckAfterElectionMs} ms after the election; ` +
            `state stream elected ${stateElectedAfterMs} ms after the kill (0: not led by the node killed); ` +
            `group stall ${groupStallMs} ms (${groupStallMs - groupElectedAfterMs} ms beyond the later election)`,
        );
        // measured, not yet promised (a stall of 1,001 ms beyond means "not within a second"): a group notices a
        // partition consumer that died with the node by missed heartbeats, and retries its state writes with
        // back-off (docs/reliability.md, F17 and F-K8)
        expect(lastAckAfterElectionMs, `a publish in flight at the kill was acknowledged ${lastAckAfterElectionMs} ms after the election`).toBeLessThanOrEqual(
          AFTER_ELECTION_MS,
        );
      },
    );
  }
});
