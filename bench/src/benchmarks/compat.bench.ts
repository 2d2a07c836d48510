// The compatibility engine in-process, beside `buf breaking` on the same
// prebuilt images (a whole process: what the engine replaces), and at sizes
// that show how cost grows. schema-check.bench.ts times the command users
// run, as whole processes.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { checkCompatibility, checkModule, compareImages, subjectSchemas } from "@chronicle/registry";
import { writeGeneratedModule } from "../../../cli/src/schema/testing-module.js";
import { field, file, generatedEventsFile, message, set } from "../../../registry/src/compat/testing-fixtures.js";
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

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A subject reaching 1,000 messages (a chain), in `version`: each version adds a field to every 10th message. */
function chainSchema(version: number): FileDescriptorSet {
  const n = 1000;
  const messages = Array.from({ length: n }, (_, i) => {
    const fields = [field("id", 1, "string"), field("amount", 2, "int64"), field("tags", 3, "string", { repeated: true })];
    if (i + 1 < n) fields.push(field("next", 4, `.big.v1.M${i + 1}`));
    for (let v = 1; v <= version; v++) if (i % 10 === v % 10) fields.push(field(`added_v${v}`, 10 + v, "string"));
    return message(`M${i}`, fields);
  });
  return set(file("big/v1/big.proto", "big.v1", messages));
}

/** Median milliseconds of `fn` over `runs`, wall and process CPU. */
function timeRuns(runs: number, fn: () => void): { wallMs: number; cpuMs: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const used = process.cpuUsage();
    fn();
    const spent = process.cpuUsage(used);
    wall.push(performance.now() - start);
    cpu.push((spent.user + spent.system) / 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

/** Median milliseconds of a `buf breaking` process on two prebuilt images. */
function bufBreakingMs(current: string, previous: string, runs: number): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    try {
      execFileSync(BUF, ["breaking", current, "--against", previous, "--config", CONFIG, "--error-format", "json"], { stdio: "pipe" });
    } catch (err) {
      if ((err as { status?: number }).status !== 100) throw err; // 100: it found breaking changes
    }
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** Builds `previous` and `current` images of a project with buf; returns their paths. */
function buildImages(dir: string, write: (projectDir: string, version: 1 | 2) => void): { previous: string; current: string } {
  const out = { previous: join(dir, "previous.binpb"), current: join(dir, "current.binpb") };
  for (const [version, image] of [
    [1, out.previous],
    [2, out.current],
  ] as const) {
    const projectDir = join(dir, `v${version}`);
    mkdirSync(projectDir, { recursive: true });
    write(projectDir, version);
    execFileSync(BUF, ["build", projectDir, "-o", image, "--as-file-descriptor-set"]);
  }
  return out;
}

const benchmark: Benchmark = {
  name: "compat",
  description:
    "Compatibility engine in-process vs `buf breaking` on the same prebuilt images; a whole module of 1,000 messages; every event of a 1,000-event file; a 1,000-message subject against 10 versions",
  async run(ctx) {
    const results: Measurement[] = [];
    const dir = mkdtempSync(join(tmpdir(), "chronicle-compat-bench-"));
    try {
      // One order module, one compatible change.
      const orders = buildImages(join(dir, "orders"), (projectDir, version) => {
        mkdirSync(join(projectDir, "acme", "orders", "v1"), { recursive: true });
        writeFileSync(join(projectDir, "acme", "orders", "v1", "orders.proto"), orderProto(version === 2 ? "string note = 10;" : ""));
      });
      const ordersBuf = bufBreakingMs(orders.current, orders.previous, ctx.quick ? 3 : 10);
      const prevBytes = readFileSync(orders.previous);
      const curBytes = readFileSync(orders.current);
      const one = timeRuns(ctx.quick ? 200 : 2000, () => {
        const prev = fromBinary(FileDescriptorSetSchema, prevBytes);
        const cur = fromBinary(FileDescriptorSetSchema, curBytes);
        compareImages(prev, cur, { category: "WIRE_JSON" });
        const history = [{ version: 1, schema: prev }];
        checkCompatibility({ subject: "acme.orders.v1.OrderPlaced", next: cur, history, mode: "FULL_TRANSITIVE", category: "WIRE_JSON" });
      });
      ctx.log(`one check: ${one.wallMs.toFixed(3)} ms; buf breaking ${ordersBuf.toFixed(1)} ms`);
      results.push({
        name: "one check (decode + image compare + FULL_TRANSITIVE subject check)",
        value: round(one.wallMs),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "buf breaking (prebuilt images)", value: round(ordersBuf) },
        note: "target >= 20x",
      });

      // A whole module of 1,000 messages in one file (what --all-messages checks), one incompatible change.
      const big = buildImages(join(dir, "module"), (projectDir, version) => writeGeneratedModule(projectDir, { files: 1, perFile: 1000, version }));
      const bigBuf = bufBreakingMs(big.current, big.previous, ctx.quick ? 1 : 5);
      const bigPrev = readFileSync(big.previous);
      const bigCur = readFileSync(big.current);
      const subjects = (fds: FileDescriptorSet) => fds.file.flatMap((f) => f.messageType.map((m) => `${f.package}.${m.name}`));
      const wholeModule = timeRuns(ctx.quick ? 3 : 10, () => {
        const previous = fromBinary(FileDescriptorSetSchema, bigPrev);
        const current = fromBinary(FileDescriptorSetSchema, bigCur);
        checkModule({ previous, current, subjects: subjects(current), mode: "FULL_TRANSITIVE", category: "WIRE_JSON" });
        const ids = subjectSchemas(current);
        for (const s of subjects(current)) ids.idOf(s);
      });
      ctx.log(
        `whole module, 1,000 messages: ${wholeModule.wallMs.toFixed(1)} ms (${wholeModule.cpuMs.toFixed(1)} ms CPU); buf breaking ${bigBuf.toFixed(0)} ms`,
      );
      results.push({
        name: "whole module of 1,000 messages in one file (decode, checkModule with subjects, every subject's id)",
        value: round(wholeModule.wallMs),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "buf breaking (prebuilt images)", value: round(bigBuf) },
        note: `process CPU time ${wholeModule.cpuMs.toFixed(1)} ms`,
      });

      // Every event of a 1,000-event file, one subject at a time (the events path of schema check, and the registry's per-subject check).
      for (const count of [1000, 2000]) {
        const previous = toBinary(FileDescriptorSetSchema, set(generatedEventsFile(count, 1)));
        const next = toBinary(FileDescriptorSetSchema, set(generatedEventsFile(count, 2)));
        const perSubject = timeRuns(ctx.quick ? 2 : 5, () => {
          const before = subjectSchemas(fromBinary(FileDescriptorSetSchema, previous));
          const after = subjectSchemas(fromBinary(FileDescriptorSetSchema, next));
          for (let i = 0; i < count; i++) {
            const subject = `gen.v1.E${i}`;
            if (after.idOf(subject) === before.idOf(subject)) continue;
            const history = [{ version: 1, schema: before.schemaOf(subject) }];
            checkCompatibility({ subject, next: after.schemaOf(subject), history, mode: "FULL_TRANSITIVE", category: "WIRE_JSON" });
          }
        });
        ctx.log(`${count} events, one subject at a time: ${perSubject.wallMs.toFixed(1)} ms (${perSubject.cpuMs.toFixed(1)} ms CPU)`);
        results.push({
          name: `every event of a ${count.toLocaleString("en-US")}-event file, one subject at a time (decode, ids, FULL_TRANSITIVE checks)`,
          value: round(perSubject.wallMs),
          unit: "ms",
          lowerIsBetter: true,
          note: `process CPU time ${perSubject.cpuMs.toFixed(1)} ms; grows linearly with the events`,
        });
      }

      // 1,000 messages reached by one subject, transitively against 10 earlier versions, from stored bytes.
      const history = Array.from({ length: 10 }, (_, i) => toBinary(FileDescriptorSetSchema, chainSchema(i + 1)));
      const next = toBinary(FileDescriptorSetSchema, chainSchema(11));
      const decode = () => ({
        next: fromBinary(FileDescriptorSetSchema, next),
        history: history.map((bytes, v) => ({ version: v + 1, schema: fromBinary(FileDescriptorSetSchema, bytes) })),
      });
      const chainRuns = ctx.quick ? 3 : 10;
      const withDecode = timeRuns(chainRuns, () => {
        const sets = decode();
        checkCompatibility({ subject: "big.v1.M0", ...sets, mode: "FULL_TRANSITIVE", category: "WIRE_JSON" });
      });
      const decodedSets = Array.from({ length: chainRuns }, decode);
      const decoded = timeRuns(chainRuns, () => {
        const sets = decodedSets.pop() ?? decode();
        checkCompatibility({ subject: "big.v1.M0", ...sets, mode: "FULL_TRANSITIVE", category: "WIRE_JSON" });
      });
      ctx.log(
        `1,000 messages x 10 versions: ${withDecode.wallMs.toFixed(1)} ms with decode, ${decoded.wallMs.toFixed(1)} ms decoded (${decoded.cpuMs.toFixed(1)} ms CPU)`,
      );
      results.push({
        name: "1,000-message subject, FULL_TRANSITIVE against 10 versions (sets already decoded)",
        value: round(decoded.wallMs),
        unit: "ms",
        lowerIsBetter: true,
        note: `target < 200 ms; process CPU time ${decoded.cpuMs.toFixed(1)} ms (wall time suffers on a busy machine)`,
      });
      results.push({
        name: "1,000-message subject, FULL_TRANSITIVE against 10 versions (decode included)",
        value: round(withDecode.wallMs),
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

export default benchmark;
