import type { LocalCluster } from "../local-cluster.js";
import type { FaultyCluster } from "./faulty-cluster.js";

/** One node's own view of a stream, from its monitoring endpoint. */
export interface ReplicaState {
  /** The node that answered. */
  node: string;
  /** The stream leader as this node sees it (undefined: none known). */
  leader: string | undefined;
  messages: number;
  firstSeq: number;
  lastSeq: number;
}

interface Jsz {
  account_details?: {
    stream_detail?: { name: string; cluster?: { leader?: string }; state?: { messages?: number; first_seq?: number; last_seq?: number } }[];
  }[];
}

/**
 * Asks every node that answers within `timeoutMs` (default 2 s) for its own
 * copy of `stream` (`/jsz?streams=true`): its leader, message count and
 * sequences. Reads the monitoring port, so it works while the node is cut off
 * from the others or from clients; paused (by {@link FaultyCluster.pause}),
 * stopped and slow nodes, or nodes that hold no replica, are left out.
 */
export async function streamStateOnNodes(cluster: LocalCluster | FaultyCluster, stream: string, timeoutMs = 2000): Promise<ReplicaState[]> {
  const paused = "paused" in cluster ? cluster.paused : new Set<string>();
  const states = await Promise.all(
    cluster.servers
      .filter((s) => s.running && !paused.has(s.name))
      .map(async (s): Promise<ReplicaState | undefined> => {
        try {
          const res = await fetch(`${s.monitorUrl}/jsz?streams=true`, { signal: AbortSignal.timeout(timeoutMs) });
          const jsz = (await res.json()) as Jsz;
          for (const account of jsz.account_details ?? []) {
            const d = account.stream_detail?.find((x) => x.name === stream);
            if (d)
              return {
                node: s.name,
                leader: d.cluster?.leader || undefined,
                messages: d.state?.messages ?? 0,
                firstSeq: d.state?.first_seq ?? 0,
                lastSeq: d.state?.last_seq ?? 0,
              };
          }
        } catch {
          // paused, stopping, or slow to answer: not counted
        }
        return undefined;
      }),
  );
  return states.filter((s): s is ReplicaState => s !== undefined);
}
