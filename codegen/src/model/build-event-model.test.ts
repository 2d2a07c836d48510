import { describe, expect, it } from "vitest";
import { compileProtos } from "../testing/compile-protos.js";
import { buildEventModel } from "./build-event-model.js";
import { formatDiagnostic } from "./diagnostics.js";
import { parseDuration } from "./duration.js";

const HEADER = `syntax = "proto3";\npackage acme.orders.v1;\nimport "chronicle/v1/options.proto";\n`;

function model(body: string, extra: Record<string, string> = {}) {
  const { files } = compileProtos({ "acme/orders/v1/orders.proto": HEADER + body, ...extra });
  return buildEventModel(files);
}

describe("buildEventModel", () => {
  it("reads streams, events, key paths and the declared settings (the runtime fills the rest)", () => {
    const { streams, diagnostics } = model(`
option (chronicle.v1.stream) = { name: "orders", partitions: 16, max_age: "30d", duplicate_window: "5m", storage: STORAGE_MEMORY, max_bytes: 1000 };
message Customer { string id = 1; }
// An order was placed.
message OrderPlaced {
  option (chronicle.v1.event) = { stream: "orders", key: "order_id", idempotency_key: "request_id" };
  string order_id = 1;
  string request_id = 2;
}
message OrderShipped {
  option (chronicle.v1.event) = { stream: "orders", key: "customer.id" };
  Customer customer = 1;
}
message Other { option (chronicle.v1.event) = { stream: "audit", key: "n" }; optional int64 n = 1; }
`);
    expect(diagnostics).toEqual([]);
    expect(streams.map((s) => s.settings)).toEqual([
      { name: "audit" },
      { name: "orders", partitions: 16, maxAgeMs: 30 * 86_400_000, maxBytes: 1000, duplicateWindowMs: 300_000, storage: "memory" },
    ]);
    const orders = streams[1]!;
    expect(orders.events.map((e) => [e.name, e.typeName, e.keyPath, e.idempotencyKeyPath])).toEqual([
      ["OrderPlaced", "acme.orders.v1.OrderPlaced", "order_id", "request_id"],
      ["OrderShipped", "acme.orders.v1.OrderShipped", "customer.id", undefined],
    ]);
    expect(orders.events[1]!.key.steps.map((s) => [s.localName, s.message, s.optional])).toEqual([
      ["customer", true, true],
      ["id", false, false],
    ]);
    expect(streams[0]!.events[0]!.key.steps[0]!.optional).toBe(true);
    expect(orders.events[0]!.location).toEqual({ file: "acme/orders/v1/orders.proto", line: 9, column: 10 });
  });

  it("accepts an identical second declaration of a stream", () => {
    const { diagnostics } = model(
      `option (chronicle.v1.stream) = { name: "orders", partitions: 4 };
message A { option (chronicle.v1.event) = { stream: "orders", key: "id" }; string id = 1; }`,
      { "acme/orders/v1/more.proto": `${HEADER}option (chronicle.v1.stream) = { name: "orders", partitions: 4 };\n` },
    );
    expect(diagnostics).toEqual([]);
  });

  // Each invalid option: the diagnostic's position and the words that name the option and the fix.
  const bad: { case: string; body: string; extra?: Record<string, string>; want: RegExp }[] = [
    {
      case: "invalid stream name characters (event)",
      body: `message A { option (chronicle.v1.event) = { stream: "or.ders", key: "id" }; string id = 1; }`,
      want: /^acme\/orders\/v1\/orders\.proto:4:\d+: option \(chronicle\.v1\.event\) of A: stream "or\.ders" is not a valid stream name; use 1-64 of/,
    },
    {
      case: "invalid stream name characters (stream option)",
      body: `option (chronicle.v1.stream) = { name: "or ders" };`,
      want: /^acme\/orders\/v1\/orders\.proto:4:1: option \(chronicle\.v1\.stream\) "or ders": invalid stream name; use 1-64/,
    },
    {
      case: "stream name ending in _dlq",
      body: `message A { option (chronicle.v1.event) = { stream: "orders_dlq", key: "id" }; string id = 1; }`,
      want: /stream "orders_dlq" is not a valid stream name; names ending in _dlq are reserved/,
    },
    {
      case: "key naming a missing field",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "ordr_id" }; string order_id = 1; }`,
      want: /:4:\d+: option \(chronicle\.v1\.event\) of A: key "ordr_id" is invalid: A has no field "ordr_id"; its fields: order_id$/,
    },
    {
      case: "key written as the JSON name",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "orderId" }; string order_id = 1; }`,
      want: /did you mean "order_id"/,
    },
    {
      case: "repeated field as key",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "ids" }; repeated string ids = 1; }`,
      want: /key "ids" is invalid: field "ids" of A is a repeated field; use a singular scalar or enum field/,
    },
    {
      case: "map field as key",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "m" }; map<string, string> m = 1; }`,
      want: /field "m" of A is a map field; use a singular scalar or enum field/,
    },
    {
      case: "message field as key",
      body: `message C { string id = 1; }\nmessage A { option (chronicle.v1.event) = { stream: "orders", key: "c" }; C c = 1; }`,
      want: /:5:\d+: .*key "c" is invalid: field "c" of A is a message field \(acme\.orders\.v1\.C\); name one of its scalar fields, e\.g\. "c\.id"/,
    },
    {
      case: "path through a scalar",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "id.x" }; string id = 1; }`,
      want: /field "id" of A is a scalar field, not a singular message field/,
    },
    {
      case: "bytes field as key",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "b" }; bytes b = 1; }`,
      want: /field "b" of A is a bytes field; use a string or integer field/,
    },
    {
      case: "oneof member as key",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "x" }; oneof k { string x = 1; int32 y = 2; } }`,
      want: /field "x" of A is a member of oneof "k"/,
    },
    {
      case: "event with no stream",
      body: `message A { option (chronicle.v1.event) = { key: "id" }; string id = 1; }`,
      want: /:4:\d+: option \(chronicle\.v1\.event\) of A has no stream; set stream: "<stream name>"/,
    },
    {
      case: "event with no key",
      body: `message A { option (chronicle.v1.event) = { stream: "orders" }; string id = 1; }`,
      want: /option \(chronicle\.v1\.event\) of A has no key; set key to the field path of the partition key, e\.g\. key: "id"/,
    },
    {
      case: "two declarations with conflicting settings",
      body: `option (chronicle.v1.stream) = { name: "orders", partitions: 4 };`,
      extra: { "acme/orders/v1/z.proto": `${HEADER}option (chronicle.v1.stream) = { name: "orders", partitions: 8 };\n` },
      want: /^acme\/orders\/v1\/z\.proto:4:1: option \(chronicle\.v1\.stream\) "orders" conflicts with its declaration at acme\/orders\/v1\/orders\.proto:4:1 \(partitions 8 here, 4 there\); declare each stream's settings once/,
    },
    {
      case: "partitions above 1024",
      body: `option (chronicle.v1.stream) = { name: "orders", partitions: 2000 };`,
      want: /"orders": partitions 2000 is out of range; use 1\.\.1024/,
    },
    {
      case: "replicas above 5",
      body: `option (chronicle.v1.stream) = { name: "orders", replicas: 7 };`,
      want: /replicas 7 is out of range; use 1\.\.5/,
    },
    {
      case: "max_age not a duration",
      body: `option (chronicle.v1.stream) = { name: "orders", max_age: "30 days" };`,
      want: /max_age "30 days" is not a duration; write e\.g\. "90s"/,
    },
    {
      case: "zero duplicate window",
      body: `option (chronicle.v1.stream) = { name: "orders", duplicate_window: "0" };`,
      want: /duplicate_window "0" is not a positive duration/,
    },
    {
      case: "negative max_msgs",
      body: `option (chronicle.v1.stream) = { name: "orders", max_msgs: -5 };`,
      want: /max_msgs -5 is out of range; use a positive integer, or 0 for no limit/,
    },
    {
      case: "stream option without a name",
      body: `option (chronicle.v1.stream) = { partitions: 3 };`,
      want: /option \(chronicle\.v1\.stream\) has no name/,
    },
    {
      case: "idempotency key that is not a scalar",
      body: `message C { string id = 1; }\nmessage A { option (chronicle.v1.event) = { stream: "orders", key: "id", idempotency_key: "c" }; string id = 1; C c = 2; }`,
      want: /idempotency_key "c" is invalid: field "c" of A is a message field/,
    },
    {
      case: "repeated idempotency key",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "id", idempotency_key: "r" }; string id = 1; repeated string r = 2; }`,
      want: /idempotency_key "r" is invalid: field "r" of A is a repeated field/,
    },
    {
      case: "two events with the same short name in a stream",
      body: `message A { option (chronicle.v1.event) = { stream: "orders", key: "id" }; string id = 1; }`,
      extra: {
        "acme/other.proto": `syntax = "proto3";\npackage acme.other;\nimport "chronicle/v1/options.proto";\nmessage A { option (chronicle.v1.event) = { stream: "orders", key: "id" }; string id = 1; }\n`,
      },
      want: /stream "orders" already has an event named A \(acme\.orders\.v1\.A\)/,
    },
    {
      case: "two stream names with the same identifier",
      body: `message A { option (chronicle.v1.event) = { stream: "order-events", key: "id" }; string id = 1; }\nmessage B { option (chronicle.v1.event) = { stream: "order_events", key: "id" }; string id = 1; }`,
      want: /stream "order_events" and stream "order-events" both generate the identifier "orderEvents"/,
    },
  ];

  it.each(bad)("reports $case and returns no streams", ({ body, extra, want }) => {
    const { streams, diagnostics } = model(body, extra);
    expect(streams).toEqual([]);
    expect(diagnostics.map(formatDiagnostic).join("\n")).toMatch(want);
  });

  it("reports every problem at once, sorted by position", () => {
    const { diagnostics } = model(`
message A { option (chronicle.v1.event) = { key: "id" }; string id = 1; }
message B { option (chronicle.v1.event) = { stream: "orders", key: "nope" }; string id = 1; }`);
    expect(diagnostics.map((d) => d.line)).toEqual([5, 6]);
  });
});

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["500ms", 500],
    ["90s", 90_000],
    ["15m", 900_000],
    ["1h30m", 5_400_000],
    ["30d", 2_592_000_000],
    ["", undefined],
    ["10", undefined],
    ["1w", undefined],
    ["-1s", undefined],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));
});
