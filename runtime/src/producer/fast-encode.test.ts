import { create, createFileRegistry, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type as T, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { compileFastEncoder, type FastEncoder } from "./fast-encode.js";
import { HeaderBlockWriter } from "./header-block.js";

function schema(syntax: "proto2" | "proto3", fields: [string, number, T][], typeName = ""): DescMessage {
  const file = create(FileDescriptorProtoSchema, {
    name: `t/${syntax}.proto`,
    package: "t",
    syntax,
    enumType: [
      {
        name: "Color",
        value: [
          { name: "RED", number: 0 },
          { name: "GREEN", number: 1 },
          { name: "BLUE", number: 300 },
        ],
      },
    ],
    messageType: [
      {
        name: "M",
        field: fields.map(([name, number, type]) => ({
          name,
          number,
          type,
          label: FieldDescriptorProto_Label.OPTIONAL,
          jsonName: name,
          ...(type === T.ENUM ? { typeName: ".t.Color" } : typeName && type === T.MESSAGE ? { typeName } : {}),
        })),
      },
    ],
  });
  return createFileRegistry(file, () => undefined).getMessage("t.M")!;
}

const plain: [string, number, T][] = [
  ["b", 7, T.BYTES],
  ["s", 1, T.STRING],
  ["ok", 3, T.BOOL],
  ["n", 20, T.INT32],
  ["u", 2000, T.UINT32],
  ["c", 5, T.ENUM],
];

/** The message encoded by `encoder` into the writer's slab, as the producer writes it; undefined when the encoder declines it. */
function encodeInto(w: HeaderBlockWriter, encoder: FastEncoder, message: unknown): Uint8Array | undefined {
  const msg = message as Record<string, unknown>;
  const most = encoder.bound(msg);
  if (most < 0) return undefined;
  w.reserve(most);
  const start = w.pos;
  const end = encoder.write(msg, w, start);
  if (end < 0) return undefined;
  w.pos = end;
  return w.bytes.subarray(start, end);
}

const values = [
  {},
  { s: "k17", b: new Uint8Array(116).fill(7), ok: true, n: 5, u: 1, c: 1 },
  { s: "日本語🙂é\ud800x", n: -1, u: 0xffffffff, c: 300 },
  { s: "x".repeat(200), b: new Uint8Array(300).fill(1), n: -0x80000000 },
  { s: "é".repeat(70), n: 0x7fffffff, u: 128 },
];

describe("fast encoder", () => {
  for (const syntax of ["proto3", "proto2"] as const) {
    it(`writes exactly what toBinary writes (${syntax} presence)`, () => {
      const s = schema(syntax, plain);
      const encoder = compileFastEncoder(s)!;
      expect(encoder).toBeDefined();
      const w = new HeaderBlockWriter();
      for (let round = 0; round < 400; round++) {
        for (const v of values) {
          const msg = create(s, v as never);
          const got = encodeInto(w, encoder, msg);
          expect(got).toBeDefined();
          expect(Buffer.from(got!).equals(Buffer.from(toBinary(s, msg)))).toBe(true);
        }
      }
    });
  }

  it("declines other field kinds, unknown fields and odd values", () => {
    expect(compileFastEncoder(schema("proto3", [["x", 1, T.INT64]]))).toBeUndefined();
    expect(compileFastEncoder(schema("proto3", [["x", 1, T.DOUBLE]]))).toBeUndefined();
    const s = schema("proto3", plain);
    const encoder = compileFastEncoder(s)!;
    const w = new HeaderBlockWriter();
    const withUnknown = create(s, { s: "a" });
    withUnknown.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    expect(encodeInto(w, encoder, withUnknown)).toBeUndefined();
    const odd = create(s, { s: "a" });
    (odd as unknown as { n: unknown }).n = 1.5;
    expect(encodeInto(w, encoder, odd)).toBeUndefined();
  });
});
