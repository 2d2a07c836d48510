import type { StreamConfig } from "@nats-io/jetstream";
import type { StreamSettings } from "../definition.js";
import { layout } from "../layout/subjects.js";

const NS_PER_MS = 1_000_000;

/**
 * The JetStream configuration Chronicle derives from a stream's settings:
 * input subjects `S.*.*`, a subject transform to
 * `S.{{partition(N,2)}}.{{wildcard(1)}}.{{wildcard(2)}}`, limits retention,
 * discard old. The duplicate window is capped at `maxAgeMs` when a maximum
 * age is set (the server refuses a longer window).
 */
export function streamConfigOf(settings: StreamSettings): Partial<StreamConfig> & { name: string } {
  const dupMs = settings.maxAgeMs > 0 ? Math.min(settings.duplicateWindowMs, settings.maxAgeMs) : settings.duplicateWindowMs;
  return {
    name: settings.name,
    subjects: [layout.inputFilter(settings.name)],
    subject_transform: { src: layout.inputFilter(settings.name), dest: layout.transformDest(settings.name, settings.partitions) },
    retention: "limits" as StreamConfig["retention"],
    storage: settings.storage as StreamConfig["storage"],
    discard: "old" as StreamConfig["discard"],
    num_replicas: settings.replicas,
    max_age: settings.maxAgeMs * NS_PER_MS,
    max_bytes: settings.maxBytes,
    max_msgs: settings.maxMsgs,
    duplicate_window: dupMs * NS_PER_MS,
    allow_direct: true,
    metadata: { "chronicle.partitions": String(settings.partitions) },
  };
}

/**
 * The JetStream configuration of a stream's dead-letter stream: named
 * `S_dlq`, subjects `S_dlq.>`, file storage, the stream's replicas, no
 * transform, limits retention with no limits.
 */
export function dlqStreamConfigOf(settings: StreamSettings): Partial<StreamConfig> & { name: string } {
  const name = layout.dlqStream(settings.name);
  return {
    name,
    subjects: [`${name}.>`],
    retention: "limits" as StreamConfig["retention"],
    storage: "file" as StreamConfig["storage"],
    discard: "old" as StreamConfig["discard"],
    num_replicas: settings.replicas,
    allow_direct: true,
  };
}

/** Reads the partition count back from a stream's subject transform; undefined when there is none. @private */
export function partitionsOfConfig(config: Partial<StreamConfig>): number | undefined {
  const m = /\{\{\s*partition\(\s*(\d+)\s*,/i.exec(config.subject_transform?.dest ?? "");
  return m ? Number(m[1]) : undefined;
}
