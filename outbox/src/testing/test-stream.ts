import { create, createFileRegistry, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FieldDescriptorProto_Label, FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import { defineStream, replay, type ChronicleConnection, type StreamDefinition, type StreamSettings } from "@chronicle/runtime";

/**
 * Test stream built at run time (no codegen): `outboxtest.v1.Changed
 * { string key = 1; int64 n = 2; bytes body = 3 }`, keyed by `key`. @private
 */
export function testStream(settings: Partial<StreamSettings> & { name: string }) {
  const field = (name: string, number: number, type: FieldDescriptorProto_Type) => ({
    name,
    number,
    type,
    label: FieldDescriptorProto_Label.OPTIONAL,
    jsonName: name,
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "outboxtest/v1/changed.proto",
    package: "outboxtest.v1",
    syntax: "proto3",
    messageType: [
      {
        name: "Changed",
        field: [
          field("key", 1, FieldDescriptorProto_Type.STRING),
          field("n", 2, FieldDescriptorProto_Type.INT64),
          field("body", 3, FieldDescriptorProto_Type.BYTES),
        ],
      },
    ],
  });
  const schema = createFileRegistry(file, () => undefined).getMessage("outboxtest.v1.Changed")!;
  return defineStream<{ Changed: DescMessage }>(settings, {
    Changed: {
      schema,
      name: "Changed",
      type: "outboxtest.v1.Changed",
      keyPath: "key",
      key: (m) => (m as unknown as { key: string }).key,
      schemaId: "chronicle:outboxtest-1",
    },
  });
}

/** Shape of a decoded test event. @private */
export interface Changed {
  key: string;
  n: bigint;
}

/** Reads every event stored in the stream: `[key, n, headers]` in stream order. @private */
export async function readAll(
  conn: ChronicleConnection,
  definition: StreamDefinition<{ Changed: DescMessage }>,
): Promise<{ key: string; n: number; headers: Record<string, string> }[]> {
  const out: { key: string; n: number; headers: Record<string, string> }[] = [];
  for await (const e of replay(conn, definition)) out.push({ key: e.meta.key, n: Number((e.event as unknown as Changed).n), headers: e.meta.headers });
  return out;
}
