// Test support for consumer-group tests: a stream definition over a
// well-known type, stream provisioning with the documented layout, and a
// windowed publisher. Internal: not exported from the package.
import { create, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../../connection.js";
import { defineStream, type StreamDefinition } from "../../definition.js";
import { Headers, PROTOBUF_CONTENT_TYPE } from "../../layout/headers.js";
import { layout } from "../../layout/subjects.js";

/** A stream with one event type, `Note` (a `google.protobuf.StringValue` whose value is `<key>:<n>`). */
export function noteStream(name: string, partitions: number): StreamDefinition<{ Note: typeof StringValueSchema }> {
  return defineStream<{ Note: typeof StringValueSchema }>(
    { name, partitions, storage: "file" },
    { Note: { schema: StringValueSchema, name: "Note", type: "google.protobuf.StringValue", keyPath: "value", key: (e) => e.value.split(":")[0]! } },
  );
}

/** Creates the stream and its dead-letter stream with the layout of runtime/src/layout. */
export async function createTestStreams(conn: ChronicleConnection, def: StreamDefinition): Promise<void> {
  const s = def.settings;
  await conn.jsm.streams.add({
    name: s.name,
    subjects: [layout.inputFilter(s.name)],
    subject_transform: { src: layout.inputFilter(s.name), dest: layout.transformDest(s.name, s.partitions) },
    storage: s.storage,
    num_replicas: s.replicas,
    duplicate_window: s.duplicateWindowMs * 1_000_000,
  } as never);
  await conn.jsm.streams.add({
    name: layout.dlqStream(s.name),
    subjects: [`${layout.dlqStream(s.name)}.>`],
    storage: s.storage,
    num_replicas: s.replicas,
  } as never);
}

/**
 * Publishes notes `<key>:<n>` with Chronicle headers (`ce-id` `<stream>-<key>-<n>`), `window` in
 * flight at once; returns their sequences. `again` publishes them as new messages with the same
 * ids (another `Nats-Msg-Id`, so the stream's duplicate window does not drop them).
 */
export async function publishNotes(
  conn: ChronicleConnection,
  stream: string,
  items: readonly { key: string; n: number }[],
  window = 500,
  again = false,
): Promise<number[]> {
  const seqs: number[] = new Array<number>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const { key, n } = items[i]!;
      const h = natsHeaders();
      const id = `${stream}-${key}-${n}`;
      h.set(Headers.Id, id);
      h.set(Headers.Type, "google.protobuf.StringValue");
      h.set(Headers.PartitionKey, key);
      h.set(Headers.Time, new Date().toISOString());
      h.set(Headers.ContentType, PROTOBUF_CONTENT_TYPE);
      const data = toBinary(StringValueSchema, create(StringValueSchema, { value: `${key}:${n}` }));
      const ack = await conn.js.publish(layout.publishSubject(stream, "Note", key), data, { headers: h, msgID: again ? `${id}-again` : id });
      seqs[i] = ack.seq;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, worker));
  return seqs;
}

/** `count` events spread round-robin over `keys` keys, numbered per key from 0. */
export function roundRobin(count: number, keys: number, prefix = "k"): { key: string; n: number }[] {
  const perKey = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const key = `${prefix}${i % keys}`;
    const n = perKey.get(key) ?? 0;
    perKey.set(key, n + 1);
    return { key, n };
  });
}
