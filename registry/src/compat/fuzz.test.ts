// Hostile input: random and mutated descriptor sets must never crash or hang
// the engine. The only error it may throw is SchemaValidationError.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkCompatibility } from "./check-compatibility.js";
import { compareImages } from "./compare-images.js";
import { SchemaValidationError } from "./errors.js";
import { extractSubjectSchema, normalizeSchema, schemaId, validateSchemaSet } from "./schema-set.js";
import { enumType, field, file, message, set } from "./testing-fixtures.js";
import { referenceSchemaId } from "./testing-reference-id.js";
import type { CompatibilityMode } from "./types.js";

const seed = set(
  file("a/common.proto", "a", [message("Money", [field("cents", 1, "int64")])], { enums: [enumType("Kind", [["KIND_UNSPECIFIED", 0]])] }),
  file(
    "a/event.proto",
    "a",
    [
      message(
        "Event",
        [
          field("id", 1, "string"),
          field("total", 2, ".a.Money"),
          field("kind", 3, "enum:.a.Kind"),
          field("tags", 4, "string", { repeated: true }),
          field("x", 5, "int32", { oneofIndex: 0 }),
        ],
        { oneofs: ["choice"], reservedNumbers: [9], reservedNames: ["old"], nested: [message("Inner", [field("self", 1, ".a.Event")])] },
      ),
    ],
    { deps: ["a/common.proto"] },
  ),
);
const seedBytes = toBinary(FileDescriptorSetSchema, seed);
const modes: CompatibilityMode[] = ["BACKWARD", "FORWARD_TRANSITIVE", "FULL_TRANSITIVE", "NONE"];

function exercise(a: FileDescriptorSet, b: FileDescriptorSet): void {
  const guard = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof SchemaValidationError)) throw e;
    }
  };
  guard(() => validateSchemaSet(b));
  guard(() => {
    // wherever the plain implementation gives an id, the optimised one gives the same
    const id = schemaId(b);
    let reference: string | undefined;
    try {
      reference = referenceSchemaId(b);
    } catch {
      return;
    }
    expect(id).toBe(reference);
  });
  guard(() => normalizeSchema(b));
  guard(() => extractSubjectSchema(b, "a.Event"));
  for (const category of ["WIRE", "WIRE_JSON"] as const) {
    guard(() => compareImages(a, b, { category }));
    guard(() => compareImages(b, a, { category }));
    for (const mode of modes) {
      guard(() => checkCompatibility({ subject: "a.Event", next: b, history: [{ version: 1, schema: a }], mode, category }));
    }
  }
}

describe("hostile descriptor sets", () => {
  it("mutated binaries never crash or hang the engine", () => {
    const started = Date.now();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(seedBytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const bytes = seedBytes.slice();
        for (const [i, v] of edits) bytes[i] = v;
        let mutated: FileDescriptorSet;
        try {
          mutated = fromBinary(FileDescriptorSetSchema, bytes);
        } catch {
          return; // not decodable: the protobuf decoder's business, not the engine's
        }
        exercise(seed, mutated);
        exercise(mutated, seed);
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 20_000 },
    );
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("random structures (dangling types, cycles, duplicate numbers and names, odd labels) never crash the engine", () => {
    const name = fc.constantFrom("a", "b", "Event", "Money", "x_y", "", "a.Event", "1");
    const typeName = fc.constantFrom("", ".a.Event", ".a.Money", ".a.Kind", ".a.Event.Inner", ".nope", "a.Event", ".");
    const arbField = fc.record({
      name,
      number: fc.integer({ min: -5, max: 600_000_000 }),
      label: fc.integer({ min: 0, max: 4 }),
      type: fc.integer({ min: 0, max: 20 }),
      typeName,
      jsonName: fc.constantFrom("", "x", "id"),
      proto3Optional: fc.boolean(),
      oneofIndex: fc.option(fc.integer({ min: -1, max: 3 }), { nil: undefined }),
    });
    const arbMessage = fc.record({
      name,
      fields: fc.array(arbField, { maxLength: 6 }),
      reserved: fc.array(fc.tuple(fc.integer({ min: -3, max: 50 }), fc.integer({ min: -3, max: 50 })), { maxLength: 3 }),
    });
    const arbFile = fc.record({
      name: fc.constantFrom("a/event.proto", "a/common.proto", "b.proto", ""),
      pkg: fc.constantFrom("a", "", "b", "a.b"),
      syntax: fc.constantFrom("proto2", "proto3", "editions", "", "weird"),
      messages: fc.array(arbMessage, { maxLength: 4 }),
      deps: fc.array(fc.constantFrom("a/common.proto", "missing.proto", "a/event.proto"), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(arbFile, { maxLength: 4 }), (files) => {
        const fds = set(
          ...files.map((f) =>
            file(
              f.name,
              f.pkg,
              f.messages.map((m) => {
                const msg = message(m.name, [], { oneofs: ["o"] });
                for (const spec of m.fields) {
                  const fd = field("x", 1, "int32");
                  Object.assign(fd, { ...spec, oneofIndex: spec.oneofIndex ?? 0 });
                  if (spec.oneofIndex === undefined) delete (fd as { oneofIndex?: number }).oneofIndex;
                  msg.field.push(fd);
                }
                msg.reservedRange = m.reserved.map(([start, end]) => ({ $typeName: "google.protobuf.DescriptorProto.ReservedRange", start, end }));
                return msg;
              }),
              { deps: f.deps, syntax: f.syntax },
            ),
          ),
        );
        exercise(seed, fds);
        exercise(fds, seed);
        exercise(fds, fds);
      }),
      { numRuns: 1500, interruptAfterTimeLimit: 20_000 },
    );
  });
});
