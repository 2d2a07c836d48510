import { create } from "@bufbuild/protobuf";
import type { StreamInfo } from "@nats-io/jetstream";
import { layout, type ChronicleConnection } from "@chronicle/runtime";
import { PartitionStateSchema, StreamSummarySchema, type PartitionState, type StreamSummary } from "../gen/chronicle/console/v1/console_pb.js";

const NS_PER_MS = 1_000_000;

/** Where a count of stored events starts: the first event, a sequence or a time. */
export type CountFrom = { all: true } | { sequence: number } | { time: Date };

/** Reads the server's `sync_interval` from its monitoring endpoint (`/varz`); undefined when it cannot. @private */
export async function readSyncInterval(monitorUrl: string | undefined): Promise<string | undefined> {
  if (!monitorUrl) return undefined;
  try {
    const r = await fetch(`${monitorUrl.replace(/\/+$/, "")}/varz`, { signal: AbortSignal.timeout(1500) });
    const v = (await r.json()) as { jetstream?: { config?: { sync_interval?: number; sync_always?: boolean } } };
    const c = v.jetstream?.config;
    if (!c) return undefined;
    if (c.sync_always) return "always";
    const seconds = Math.round((c.sync_interval ?? 120e9) / 1e9);
    return seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
  } catch {
    return undefined;
  }
}

/** The partition count of a Chronicle stream, from its subject transform; 0 for another stream. */
export function partitionsOf(info: StreamInfo): number {
  const m = /\{\{\s*partition\(\s*(\d+)\s*,/i.exec(info.config.subject_transform?.dest ?? "");
  return m ? Number(m[1]) : 0;
}

/** A stream's summary with the health warnings an operator should see. */
export function summarize(info: StreamInfo, syncInterval: string | undefined): StreamSummary {
  const cluster = info.cluster;
  const replicas = cluster
    ? [
        ...(cluster.leader ? [{ name: cluster.leader, leader: true, current: true, lag: 0n, activeMs: 0n, offline: false }] : []),
        ...(cluster.replicas ?? []).map((r) => ({
          name: r.name,
          leader: false,
          current: r.current,
          lag: BigInt(r.lag ?? 0),
          activeMs: BigInt(Math.round((r.active ?? 0) / NS_PER_MS)),
          offline: r.offline ?? false,
        })),
      ]
    : [];
  const warnings: string[] = [];
  if (info.config.num_replicas > 1 && cluster && !cluster.leader) warnings.push("no leader: the stream accepts no writes until one is elected");
  for (const r of replicas) {
    if (r.leader) continue;
    if (r.offline) warnings.push(`replica ${r.name} is offline`);
    else if (!r.current) warnings.push(`replica ${r.name} is behind the leader by ${r.lag} operation(s)`);
  }
  if (cluster && replicas.length < info.config.num_replicas) warnings.push(`${replicas.length} of ${info.config.num_replicas} replicas report in`);
  return create(StreamSummarySchema, {
    name: info.config.name,
    partitions: partitionsOf(info),
    storage: String(info.config.storage),
    replicas: info.config.num_replicas,
    messages: BigInt(info.state.messages),
    bytes: BigInt(info.state.bytes),
    firstSequence: BigInt(info.state.first_seq),
    lastSequence: BigInt(info.state.last_seq),
    firstTime: info.state.first_ts ?? "",
    lastTime: info.state.last_ts ?? "",
    cluster: cluster?.name ?? "",
    leader: cluster?.leader ?? "",
    replicasState: replicas,
    syncInterval: syncInterval ?? "",
    warnings,
    deadLetter: info.config.name.endsWith("_dlq"),
    consumers: info.state.consumer_count,
    maxAgeMs: BigInt(Math.round((info.config.max_age ?? 0) / NS_PER_MS)),
    eventNames: [],
  });
}

/**
 * The stream side of the console: stream summaries (storage, replicas,
 * leader, followers' lag, health) and counts of stored events per
 * partition. Counting asks the server for the pending count of a
 * short-lived, non-durable consumer per partition, which is deleted at
 * once: no durable state, no consumer group touched, no message sent.
 */
export class StreamsSource {
  constructor(
    private readonly conn: ChronicleConnection,
    private readonly monitorUrl: string | undefined,
  ) {}

  /** Every stream but the KV buckets' and the console's own, by name. */
  async list(): Promise<StreamSummary[]> {
    const sync = await readSyncInterval(this.monitorUrl);
    const out: StreamSummary[] = [];
    for await (const info of this.conn.jsm.streams.list()) {
      if (info.config.name.startsWith("KV_") || info.config.name === "chronicle_console_audit") continue;
      out.push(summarize(info, sync));
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async info(name: string): Promise<StreamInfo> {
    return this.conn.jsm.streams.info(name);
  }

  async summary(name: string): Promise<StreamSummary> {
    return summarize(await this.info(name), await readSyncInterval(this.monitorUrl));
  }

  /** Events stored in each partition (from `from` on), with bytes estimated from the stream's average size. */
  async partitions(info: StreamInfo, from: CountFrom = { all: true }): Promise<PartitionState[]> {
    const n = partitionsOf(info);
    const avg = info.state.messages ? info.state.bytes / info.state.messages : 0;
    const counts = await Promise.all(Array.from({ length: n }, (_, p) => this.count(info.config.name, layout.partitionFilter(info.config.name, p), from)));
    return counts.map((messages, partition) =>
      create(PartitionStateSchema, { partition, messages: BigInt(messages), bytesEstimate: BigInt(Math.round(messages * avg)) }),
    );
  }

  /** Stored events matching `filter` from `from` on. */
  async count(stream: string, filter: string, from: CountFrom): Promise<number> {
    const start =
      "sequence" in from
        ? { deliver_policy: "by_start_sequence", opt_start_seq: from.sequence }
        : "time" in from
          ? { deliver_policy: "by_start_time", opt_start_time: from.time.toISOString() }
          : { deliver_policy: "all" };
    const ci = await this.conn.jsm.consumers.add(stream, {
      ...start,
      filter_subject: filter,
      ack_policy: "none",
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: 10_000 * NS_PER_MS,
    } as never);
    void this.conn.jsm.consumers.delete(stream, ci.name).catch(() => undefined);
    return ci.num_pending;
  }
}
