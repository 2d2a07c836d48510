// The cluster every fault file runs on: three nodes behind fault links
// (see @chronicle/testing's startFaultyCluster), started once per file.
import { afterAll, beforeAll } from "vitest";
import { connect, type ChronicleConnection } from "@chronicle/runtime";
import { startFaultyCluster, type FaultyCluster } from "@chronicle/testing";

/** A file's faulty cluster and a connection for set-up and checks, set once `beforeAll` has run. */
export interface ClusterFixture {
  readonly cluster: FaultyCluster;
  /** Straight to every node, never cut: for set-up and checks only. */
  readonly conn: ChronicleConnection;
}

/**
 * Starts a 3-node faulty cluster before the file's tests and stops it after
 * them; call at the top level of a test file.
 */
export function useFaultyCluster(): ClusterFixture {
  const fixture = {} as { cluster: FaultyCluster; conn: ChronicleConnection };
  beforeAll(async () => {
    fixture.cluster = await startFaultyCluster({ nodes: 3 });
    fixture.conn = await connect({ servers: fixture.cluster.urls, name: "checks" });
  }, 90_000);
  afterAll(async () => {
    await fixture.conn?.close();
    await fixture.cluster?.stop();
  }, 60_000);
  return fixture;
}
