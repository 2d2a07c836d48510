import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type FileDescriptorSet,
} from "@bufbuild/protobuf/wkt";
import { checkCompatibility, compareImages } from "@chronicle/registry";
import { percentile, type Benchmark, type Measurement } from "../harness.js";

const BUF = join(process.cwd(), "node_modules", ".bin", "buf");
const CONFIG = '{"version":"v1","breaking":{"use":["WIRE_JSON"]}}';

/** An order-events schema: a handful of events and shared types, like a real module. */
function orderProto(extraField: string): string {
  return `syntax = "proto3";
package acme.orders.v1;

import "google/protobuf/timestamp.proto";

message Money { string currency = 1; int64 units = 2; int32 nanos = 3; }
message Address { string street = 1; string city = 2; string zip = 3; string country = 4; }
message Line { string sku = 1; int32 qty = 2; Money price = 3; map<string, string> attrs = 4; }
enum Status { STATUS_UNSPECIFIED = 0; STATUS_OPEN = 1; STATUS_PAID = 2; STATUS_SHIPPED = 3; }
message OrderPlaced {
  string order_id = 1;
  string customer_id = 2;
  repeated Line lines = 3;
  Money total = 4;
  Address ship_to = 5;
  Status status = 6;
  google.protobuf.Timestamp placed_at = 7;
  oneof payment { string card_token = 8; string invoice_id = 9; }
  ${extraField}
}
message OrderShipped { string order_id = 1; string carrier = 2; google.protobuf.Timestamp at = 3; }
message OrderCancelled { string order_id = 1; string reason = 2; }
`;
}

function median(samples: number[]): number {
  return percentile(samples, 50);
}

/** A subject reaching 1,000 messages, in `version` (each version adds a field to every 10th message). */
function bigSchema(version: number): FileDescriptorSet {
  const messages = [];
  const n = 1000;
  for (let i = 0; i < n; i++) {
    const fields = [
      create(FieldDescriptorProtoSchema, { name: "id", number: 1, label: 1, type: 9, jsonName: "id" }),
      create(FieldDescriptorProtoSchema, { name: "amount", number: 2, label: 1, type: 3, jsonName: "amount" }),
      create(FieldDescriptorProtoSchema, { name: "tags", number: 3, label: 3, type: 9, jsonName: "tags" }),
    ];
    if (i + 1 < n)
      fields.push(create(FieldDescriptorProtoSchema, { name: "next", number: 4, label: 1, type: 11, typeName: `.big.v1.M${i + 1}`, jsonName: "next" }));
    for (let v = 1; v <= version; v++) {
      if (i % 10 === v % 10)
        fields.push(create(FieldDescriptorProtoSchema, { name: `added_v${v}`, number: 10 + v, label: 1, type: 9, jsonName: `addedV${v}` }));
    }
    messages.push(create(DescriptorProtoSchema, { name: `M${i}`, field: fields }));
  }
  return create(FileDescriptorSetSchema, {
    file: [create(FileDescriptorProtoSchema, { name: "big/v1/big.proto", package: "big.v1", syntax: "proto3", messageType: messages })],
  });
}

const benchmark: Benchmark = {
  name: "compat",
  description: "Compatibility engine: one check in-process vs `buf breaking` on the same pair; 1,000 messages against 10 versions",
  async run(ctx) {
    const results: Measurement[] = [];
    const dir = mkdtempSync(join(tmpdir(), "chronicle-compat-bench-"));
    try {
      for (const [side, extra] of [
        ["previous", ""],
        ["current", "string note = 10;"],
      ] as const) {
        mkdirSync(join(dir, side, "acme", "orders", "v1"), { recursive: true });
        writeFileSync(join(dir, side, "acme", "orders", "v1", "orders.proto"), orderProto(extra));
        execFileSync(BUF, ["build", join(dir, side), "-o", join(dir, `${side}.binpb`), "--as-file-descriptor-set"]);
      }
      const prevBytes = readFileSync(join(dir, "previous.binpb"));
      const curBytes = readFileSync(join(dir, "current.binpb"));

      // Baseline: buf breaking on the same pair, prebuilt images (no .proto compilation).
      const bufRuns = ctx.quick ? 3 : 10;
      const bufMs: number[] = [];
      for (let i = 0; i < bufRuns; i++) {
        const t = performance.now();
        execFileSync(BUF, ["breaking", join(dir, "current.binpb"), "--against", join(dir, "previous.binpb"), "--config", CONFIG, "--error-format", "json"]);
        bufMs.push(performance.now() - t);
      }
      ctx.log(`buf breaking: median ${median(bufMs).toFixed(1)} ms over ${bufRuns} runs`);

      // Engine: decode both sets and compare, every iteration (no cache across iterations).
      const runs = ctx.quick ? 200 : 2000;
      const engineMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const prev = fromBinary(FileDescriptorSetSchema, prevBytes);
        const cur = fromBinary(FileDescriptorSetSchema, curBytes);
        compareImages(prev, cur, { category: "WIRE_JSON" });
        checkCompatibility({
          subject: "acme.orders.v1.OrderPlaced",
          next: cur,
          history: [{ version: 1, schema: prev }],
          mode: "FULL_TRANSITIVE",
          category: "WIRE_JSON",
        });
        engineMs.push(performance.now() - t);
      }
      ctx.log(`engine: median ${median(engineMs).toFixed(3)} ms over ${runs} runs`);
      results.push({
        name: "one check (decode + image compare + FULL_TRANSITIVE subject check)",
        value: round(median(engineMs)),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "buf breaking (prebuilt images)", value: round(median(bufMs)) },
        note: "target >= 20x",
      });

      // 1,000 messages, transitively against 10 earlier versions, from stored bytes.
      const history = Array.from({ length: 10 }, (_, i) => toBinary(FileDescriptorSetSchema, bigSchema(i + 1)));
      const next = toBinary(FileDescriptorSetSchema, bigSchema(11));
      const bigRuns = ctx.quick ? 3 : 10;
      const bigMs: number[] = [];
      let violations = -1;
      for (let i = 0; i < bigRuns; i++) {
        const t = performance.now();
        const result = checkCompatibility({
          subject: "big.v1.M0",
          next: fromBinary(FileDescriptorSetSchema, next),
          history: history.map((bytes, v) => ({ version: v + 1, schema: fromBinary(FileDescriptorSetSchema, bytes) })),
          mode: "FULL_TRANSITIVE",
          category: "WIRE_JSON",
        });
        bigMs.push(performance.now() - t);
        violations = result.violations.length;
      }
      ctx.log(`1,000 messages x 10 versions: median ${median(bigMs).toFixed(1)} ms, ${violations} violations`);
      // The same check on already-decoded sets (what a service holding its history in memory pays).
      const engineOnlyMs: number[] = [];
      const engineOnlyCpuMs: number[] = [];
      for (let i = 0; i < bigRuns; i++) {
        const decodedNext = fromBinary(FileDescriptorSetSchema, next);
        const decodedHistory = history.map((bytes, v) => ({ version: v + 1, schema: fromBinary(FileDescriptorSetSchema, bytes) }));
        const t = performance.now();
        const cpu = process.cpuUsage();
        checkCompatibility({ subject: "big.v1.M0", next: decodedNext, history: decodedHistory, mode: "FULL_TRANSITIVE", category: "WIRE_JSON" });
        const used = process.cpuUsage(cpu);
        engineOnlyMs.push(performance.now() - t);
        engineOnlyCpuMs.push((used.user + used.system) / 1000);
      }
      ctx.log(`1,000 messages x 10 versions, decoded sets: median ${median(engineOnlyMs).toFixed(1)} ms wall, ${median(engineOnlyCpuMs).toFixed(1)} ms CPU`);
      results.push({
        name: "1,000-message subject, FULL_TRANSITIVE against 10 versions (sets already decoded)",
        value: round(median(engineOnlyMs)),
        unit: "ms",
        lowerIsBetter: true,
        note: `target < 200 ms; process CPU time ${median(engineOnlyCpuMs).toFixed(1)} ms (wall time suffers on a busy machine)`,
      });
      results.push({
        name: "1,000-message subject, FULL_TRANSITIVE against 10 versions (decode included)",
        value: round(median(bigMs)),
        unit: "ms",
        lowerIsBetter: true,
        note: "target < 200 ms",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export default benchmark;
