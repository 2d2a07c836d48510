// Checking every message of a file one subject at a time (what `chronicle
// schema check` does for events, and the registry for each subject) costs
// time in proportion to the file: the subject's schema is a view shared by
// the file's messages, indexed once, and its id is computed once per file.
// Twice the messages take less than 2.5 times the CPU time (copying the
// file per message grew with the square of the messages). Measured as CPU
// time after a garbage collection, the least of five runs taken in turns.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { checkCompatibility } from "./check-compatibility.js";
import { indexSchema } from "./model.js";
import { subjectSchemas } from "./schema-set.js";
import { generatedEventsFile, set } from "./testing-fixtures.js";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Checks each event of `next` against `previous` as a subject, the way the CLI checks events; returns the CPU milliseconds. */
function checkEveryEvent(previous: FileDescriptorSet, next: FileDescriptorSet): number {
  collectGarbage();
  const start = process.cpuUsage();
  const before = subjectSchemas(previous);
  const after = subjectSchemas(next);
  let violations = 0;
  for (const subject of indexSchema(next).messages.keys()) {
    if (!subject.startsWith("gen.v1.E") || subject.endsWith(".Line")) continue;
    if (after.idOf(subject) === before.idOf(subject)) continue;
    const history = [{ version: 1, schema: before.schemaOf(subject) }];
    violations += checkCompatibility({ subject, next: after.schemaOf(subject), history, mode: "FULL_TRANSITIVE", category: "WIRE_JSON" }).violations.length;
  }
  const used = process.cpuUsage(start);
  expect(violations).toBe(0);
  return (used.user + used.system) / 1000;
}

describe("checking every event of a file, one subject at a time", () => {
  it("grows linearly with the events", () => {
    checkEveryEvent(set(generatedEventsFile(1000, 1)), set(generatedEventsFile(1000, 2))); // warm up the JIT first
    let smallMs = Infinity;
    let largeMs = Infinity;
    for (let round = 0; round < 5; round++) {
      // fresh objects each round: nothing cached from an earlier round
      smallMs = Math.min(smallMs, checkEveryEvent(set(generatedEventsFile(1000, 1)), set(generatedEventsFile(1000, 2))));
      largeMs = Math.min(largeMs, checkEveryEvent(set(generatedEventsFile(2000, 1)), set(generatedEventsFile(2000, 2))));
    }
    console.log(`1000 events ${smallMs.toFixed(0)} ms CPU, 2000 events ${largeMs.toFixed(0)} ms CPU (${(largeMs / smallMs).toFixed(2)}x)`);
    expect(largeMs / smallMs).toBeLessThan(2.5);
  }, 120_000);
});
