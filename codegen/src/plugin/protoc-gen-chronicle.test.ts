import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CodeGeneratorResponse } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { compileProtos } from "../testing/compile-protos.js";
import { protocGenChronicle } from "./protoc-gen-chronicle.js";

const testdata = join(dirname(fileURLToPath(import.meta.url)), "../../testdata");
const HEADER = `syntax = "proto3";\npackage acme.v1;\nimport "chronicle/v1/options.proto";\n`;

function generate(sources: Record<string, string>): CodeGeneratorResponse {
  return protocGenChronicle.run(compileProtos(sources).request("target=ts,import_extension=js"));
}

function lines(res: CodeGeneratorResponse, name: string): string[] {
  const file = res.file.find((f) => f.name === name);
  if (!file) throw new Error(`no ${name} in ${res.file.map((f) => f.name).join(", ")}; error: ${res.error ?? "none"}`);
  return file.content.split("\n").map((l) => l.trim());
}

describe("protoc-gen-chronicle", () => {
  it("writes the golden output for the sample (codegen/testdata)", () => {
    const name = "acme/orders/v1/orders.proto";
    const res = generate({ [name]: readFileSync(join(testdata, "proto", name), "utf8") });
    expect(res.error ?? "").toBe("");
    expect(res.file.map((f) => f.name)).toEqual(["acme/orders/v1/orders_chronicle.ts"]);
    expect(res.file[0]!.content).toBe(readFileSync(join(testdata, "gen/acme/orders/v1/orders_chronicle.ts"), "utf8"));
  });

  // One proto per case, and lines the generated file must contain.
  const cases: { case: string; proto: string; want: string[] }[] = [
    {
      case: "string key at the top level",
      proto: `message A { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }`,
      want: ["key: (e) => e.id,", 'keyPath: "id",', 'type: "acme.v1.A",', "export const sStream: StreamDefinition<SEvents> = defineStream<SEvents>("],
    },
    {
      case: "key through a nested message (unset message gives the empty key)",
      proto: `message C { string id = 1; }\nmessage A { option (chronicle.v1.event) = { stream: "s", key: "c.id" }; C c = 1; }`,
      want: ['key: (e) => e.c?.id ?? "",', 'keyPath: "c.id",'],
    },
    {
      case: "key two messages deep",
      proto: `message D { int32 n = 1; }\nmessage C { D d = 1; }\nmessage A { option (chronicle.v1.event) = { stream: "s", key: "c.d.n" }; C c = 1; }`,
      want: ['key: (e) => String(e.c?.d?.n ?? ""),'],
    },
    {
      case: "integer, enum and optional keys",
      proto: `enum K { K_UNSPECIFIED = 0; }\nmessage A { option (chronicle.v1.event) = { stream: "s", key: "n" }; int64 n = 1; }\nmessage B { option (chronicle.v1.event) = { stream: "s", key: "k" }; K k = 1; }\nmessage C { option (chronicle.v1.event) = { stream: "s", key: "o" }; optional string o = 1; }`,
      want: ["key: (e) => String(e.n),", "key: (e) => String(e.k),", 'key: (e) => e.o ?? "",'],
    },
    {
      case: "idempotency key",
      proto: `message A { option (chronicle.v1.event) = { stream: "s", key: "id", idempotency_key: "request_id" }; string id = 1; string request_id = 2; }`,
      want: ['idempotencyKeyPath: "request_id",', "idempotencyKey: (e) => e.requestId,"],
    },
    {
      case: "stream settings with every option",
      proto: `option (chronicle.v1.stream) = { name: "s", partitions: 3, replicas: 3, max_age: "1h", max_bytes: 1024, max_msgs: 10, duplicate_window: "10s", storage: STORAGE_MEMORY };\nmessage A { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }`,
      want: [
        'name: "s",',
        "partitions: 3,",
        "replicas: 3,",
        "maxAgeMs: 3600000,",
        "maxBytes: 1024,",
        "maxMsgs: 10,",
        "duplicateWindowMs: 10000,",
        'storage: "memory",',
      ],
    },
    {
      case: "names derived from a dashed stream name",
      proto: `message A { option (chronicle.v1.event) = { stream: "order-events", key: "id" }; string id = 1; }`,
      want: [
        "export type OrderEventsEvents = {",
        "export function createOrderEventsProducer(conn: ChronicleConnection, options?: OrderEventsProducerOptions): OrderEventsProducer {",
        "export function orderEventsHandlers(handlers: OrderEventsHandlers): OrderEventsHandlers {",
        "export function partialOrderEventsHandlers(handlers: PartialOrderEventsHandlers): PartialOrderEventsHandlers {",
        "export function startOrderEventsConsumer(conn: ChronicleConnection, options: OrderEventsConsumerOptions): ReturnType<typeof startConsumerGroup<OrderEventsEvents>> {",
        "return startConsumerGroup(conn, orderEventsStream, options);",
      ],
    },
    {
      case: "one publish method per event, calling the runtime producer",
      proto: `message A { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }\nmessage B { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }`,
      want: [
        "publishA(event: MessageInitShape<typeof ASchema>, options?: PublishOptions): Promise<PublishResult>;",
        "publishB(event: MessageInitShape<typeof BSchema>, options?: PublishOptions): Promise<PublishResult>;",
        'publishA: (event, options) => producer.publish("A", event, options),',
        "const producer = createProducer(conn, sStream, options);",
        'import { ASchema, BSchema } from "./x_pb.js";',
        'import { createProducer, defineStream, startConsumerGroup } from "@chronicle/runtime";',
      ],
    },
    {
      case: "proto comments carried into doc comments",
      proto: `// Something happened.\n// Second line.\nmessage A { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }`,
      want: ["* Something happened.", "* Second line.", "* @generated from event acme.v1.A (key: id)"],
    },
  ];

  it.each(cases)("$case", ({ proto, want }) => {
    const got = lines(generate({ "acme/v1/x.proto": HEADER + proto }), "acme/v1/x_chronicle.ts");
    for (const line of want) expect(got).toContain(line);
    expect(got.join("\n")).not.toMatch(/\bany\b/);
  });

  it("writes nothing for a file without events", () => {
    const res = generate({ "acme/v1/x.proto": `${HEADER}message A { string id = 1; }` });
    expect(res.error ?? "").toBe("");
    expect(res.file).toEqual([]);
  });

  it("puts a stream in the file that declares it, with events from other files", () => {
    const res = generate({
      "acme/v1/a.proto": `${HEADER}import "acme/v1/b.proto";\noption (chronicle.v1.stream) = { name: "s" };\nmessage A { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }`,
      "acme/v1/b.proto": `${HEADER}message B { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }`,
    });
    expect(res.file.map((f) => f.name)).toEqual(["acme/v1/a_chronicle.ts"]);
    expect(lines(res, "acme/v1/a_chronicle.ts")).toContain('import { BSchema } from "./b_pb.js";');
  });

  it.each([
    [
      "a key naming a missing field",
      `message A { option (chronicle.v1.event) = { stream: "s", key: "nope" }; string id = 1; }`,
      /^acme\/v1\/x\.proto:4:\d+: option \(chronicle\.v1\.event\) of A: key "nope" is invalid/,
    ],
    [
      "partitions out of range",
      `option (chronicle.v1.stream) = { name: "s", partitions: 1025 };\nmessage A { option (chronicle.v1.event) = { stream: "s", key: "id" }; string id = 1; }`,
      /^acme\/v1\/x\.proto:4:1: .*partitions 1025 is out of range; use 1\.\.1024/,
    ],
    ["an event with no stream", `message A { option (chronicle.v1.event) = { key: "id" }; string id = 1; }`, /has no stream/],
  ])("stops with an error and no files for %s", (_name, proto, want) => {
    const res = generate({
      "acme/v1/x.proto": HEADER + proto,
      "acme/v1/ok.proto": `${HEADER}message Ok { option (chronicle.v1.event) = { stream: "ok", key: "id" }; string id = 1; }`,
    });
    expect(res.file).toEqual([]);
    expect(res.error).toMatch(want);
  });
});
