import { describe, expect, it } from "vitest";
import { checkCompatibility } from "./check-compatibility.js";
import type { CompatibilityMode, RuleCategory, SchemaVersion } from "./types.js";
import { enumType, field, file, message, set } from "./testing-fixtures.js";
import type { DescriptorProto, EnumDescriptorProto, FileDescriptorSet } from "@bufbuild/protobuf/wkt";

const SUBJECT = "acme.orders.v1.OrderPlaced";
const ALL_MODES: CompatibilityMode[] = ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"];
const BACKWARD_ONLY: CompatibilityMode[] = ["BACKWARD", "BACKWARD_TRANSITIVE"];

function schema(order: DescriptorProto, extra: { enums?: EnumDescriptorProto[]; others?: DescriptorProto[] } = {}): FileDescriptorSet {
  return set(file("acme/orders/v1/orders.proto", "acme.orders.v1", [order, ...(extra.others ?? [])], { enums: extra.enums ?? [] }));
}

const base = message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "int64")]);
const v1 = schema(base);

function check(history: SchemaVersion[] | FileDescriptorSet, next: FileDescriptorSet, mode: CompatibilityMode, category: RuleCategory = "WIRE_JSON") {
  const h = Array.isArray(history) ? history : [{ version: 1, schema: history }];
  return checkCompatibility({ subject: SUBJECT, next, history: h, mode, category });
}

function rules(history: SchemaVersion[] | FileDescriptorSet, next: FileDescriptorSet, mode: CompatibilityMode, category: RuleCategory = "WIRE_JSON"): string[] {
  return [...new Set(check(history, next, mode, category).violations.map((v) => `${v.rule} ${v.path}`))].sort();
}

describe("checkCompatibility: field additions and deletions", () => {
  const added = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "int64"), field("currency", 3, "string")]));
  const deleted = schema(message("OrderPlaced", [field("order_id", 1, "string")]));
  const deletedReservedNumber = schema(message("OrderPlaced", [field("order_id", 1, "string")], { reservedNumbers: [2] }));
  const deletedReserved = schema(message("OrderPlaced", [field("order_id", 1, "string")], { reservedNumbers: [2], reservedNames: ["total_cents"] }));

  it.each([...ALL_MODES, "NONE" as const])("adding a field passes in %s", (mode) => {
    for (const category of ["WIRE", "WIRE_JSON"] as const) expect(check(v1, added, mode, category).violations).toEqual([]);
  });

  it.each(ALL_MODES)("deleting a field without reserving fails in %s", (mode) => {
    expect(rules(v1, deleted, mode)).toEqual([
      "FIELD_NO_DELETE_UNLESS_NAME_RESERVED acme.orders.v1.OrderPlaced.total_cents",
      "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED acme.orders.v1.OrderPlaced.total_cents",
    ]);
    expect(rules(v1, deleted, mode, "WIRE")).toEqual(["FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED acme.orders.v1.OrderPlaced.total_cents"]);
  });

  it.each(ALL_MODES)("deleting a field with its number reserved passes WIRE, and WIRE_JSON once the name is reserved too, in %s", (mode) => {
    expect(rules(v1, deletedReservedNumber, mode, "WIRE")).toEqual([]);
    expect(rules(v1, deletedReservedNumber, mode)).toEqual(["FIELD_NO_DELETE_UNLESS_NAME_RESERVED acme.orders.v1.OrderPlaced.total_cents"]);
    expect(rules(v1, deletedReserved, mode)).toEqual([]);
  });

  it.each(ALL_MODES)("removing a reservation fails in %s, and re-adding the number is caught", (mode) => {
    const reused = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "string")]));
    expect(rules(deletedReserved, reused, mode)).toContain("RESERVED_MESSAGE_NO_DELETE acme.orders.v1.OrderPlaced");
  });

  it("NONE accepts anything", () => {
    expect(check(v1, deleted, "NONE").compatible).toBe(true);
  });

  it("a deleted subject message is a violation", () => {
    const other = schema(message("OrderShipped", [field("order_id", 1, "string")]));
    const result = check(v1, other, "FULL_TRANSITIVE");
    expect(result.compatible).toBe(false);
    expect(result.violations).toEqual([expect.objectContaining({ rule: "MESSAGE_NO_DELETE", path: SUBJECT, againstVersion: 1 })]);
  });
});

describe("checkCompatibility: types, cardinality, names, oneofs", () => {
  it.each(ALL_MODES)("an incompatible type change fails in %s", (mode) => {
    const changed = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "string")]));
    expect(rules(v1, changed, mode, "WIRE")).toEqual(["FIELD_WIRE_COMPATIBLE_TYPE acme.orders.v1.OrderPlaced.total_cents"]);
    expect(rules(v1, changed, mode)).toEqual(["FIELD_WIRE_JSON_COMPATIBLE_TYPE acme.orders.v1.OrderPlaced.total_cents"]);
  });

  it("string -> bytes is WIRE-safe for new readers only: passes BACKWARD, fails FORWARD and FULL", () => {
    const bytes = schema(message("OrderPlaced", [field("order_id", 1, "bytes"), field("total_cents", 2, "int64")]));
    for (const mode of BACKWARD_ONLY) expect(rules(v1, bytes, mode, "WIRE")).toEqual([]);
    for (const mode of ["FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"] as const) {
      expect(rules(v1, bytes, mode, "WIRE")).toEqual(["FIELD_WIRE_COMPATIBLE_TYPE acme.orders.v1.OrderPlaced.order_id"]);
    }
  });

  it("int64 -> uint64 is fine on the wire and in JSON; int32 -> int64 only on the wire", () => {
    const unsigned = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "uint64")]));
    expect(rules(v1, unsigned, "FULL_TRANSITIVE")).toEqual([]);
    const small = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "int32")]));
    expect(rules(v1, small, "FULL_TRANSITIVE", "WIRE")).toEqual([]);
    expect(rules(v1, small, "FULL_TRANSITIVE")).toEqual(["FIELD_WIRE_JSON_COMPATIBLE_TYPE acme.orders.v1.OrderPlaced.total_cents"]);
  });

  it.each(ALL_MODES)("a cardinality change fails in %s", (mode) => {
    const repeated = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "int64", { repeated: true })]));
    expect(rules(v1, repeated, mode, "WIRE")).toEqual(["FIELD_WIRE_COMPATIBLE_CARDINALITY acme.orders.v1.OrderPlaced.total_cents"]);
  });

  it.each(ALL_MODES)("a rename fails under WIRE_JSON and passes under WIRE in %s", (mode) => {
    const renamed = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("amount_cents", 2, "int64")]));
    expect(rules(v1, renamed, mode, "WIRE")).toEqual([]);
    expect(rules(v1, renamed, mode)).toEqual([
      "FIELD_SAME_JSON_NAME acme.orders.v1.OrderPlaced.amount_cents",
      "FIELD_SAME_NAME acme.orders.v1.OrderPlaced.amount_cents",
    ]);
  });

  it.each(ALL_MODES)("moving a field into a oneof fails in %s", (mode) => {
    const inOneof = schema(
      message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "int64", { oneofIndex: 0 })], { oneofs: ["amount"] }),
    );
    expect(rules(v1, inOneof, mode, "WIRE")).toEqual(["FIELD_SAME_ONEOF acme.orders.v1.OrderPlaced.total_cents"]);
  });

  it("in FULL, a change is reported once per earlier version, not once per direction", () => {
    const changed = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "string")]));
    expect(check(v1, changed, "FULL").violations).toHaveLength(1);
  });
});

describe("checkCompatibility: enums", () => {
  const withStatus = (values: [string, number][], extra: { reservedNumbers?: number[]; reservedNames?: string[] } = {}) =>
    schema(message("OrderPlaced", [field("order_id", 1, "string"), field("status", 2, "enum:.acme.orders.v1.Status")]), {
      enums: [enumType("Status", values, extra)],
    });
  const e1 = withStatus([
    ["STATUS_UNSPECIFIED", 0],
    ["STATUS_OPEN", 1],
  ]);

  it.each(ALL_MODES)("adding an enum value passes in %s", (mode) => {
    const added = withStatus([
      ["STATUS_UNSPECIFIED", 0],
      ["STATUS_OPEN", 1],
      ["STATUS_PAID", 2],
    ]);
    expect(rules(e1, added, mode)).toEqual([]);
  });

  it.each(ALL_MODES)("deleting an enum value without reserving fails in %s; reserving fixes it", (mode) => {
    const deleted = withStatus([["STATUS_UNSPECIFIED", 0]]);
    expect(rules(e1, deleted, mode)).toEqual([
      "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED acme.orders.v1.Status.STATUS_OPEN",
      "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED acme.orders.v1.Status.STATUS_OPEN",
    ]);
    const reserved = withStatus([["STATUS_UNSPECIFIED", 0]], { reservedNumbers: [1], reservedNames: ["STATUS_OPEN"] });
    expect(rules(e1, reserved, mode)).toEqual([]);
  });

  it.each(ALL_MODES)("renaming an enum value fails under WIRE_JSON, passes under WIRE in %s", (mode) => {
    const renamed = withStatus([
      ["STATUS_UNSPECIFIED", 0],
      ["STATUS_OPENED", 1],
    ]);
    expect(rules(e1, renamed, mode, "WIRE")).toEqual([]);
    expect(rules(e1, renamed, mode)).toEqual(["ENUM_VALUE_SAME_NAME acme.orders.v1.Status.STATUS_OPENED"]);
  });
});

describe("checkCompatibility: scope and history", () => {
  it("looks at referenced messages, not at other events in the same file", () => {
    const withLine = (qtyType: string, otherType: string) =>
      schema(message("OrderPlaced", [field("order_id", 1, "string"), field("lines", 2, ".acme.orders.v1.Line", { repeated: true })]), {
        others: [message("Line", [field("qty", 1, qtyType)]), message("OrderShipped", [field("carrier", 1, otherType)])],
      });
    const before = withLine("int32", "string");
    expect(rules(before, withLine("int32", "int64"), "FULL_TRANSITIVE")).toEqual([]);
    expect(rules(before, withLine("string", "string"), "FULL_TRANSITIVE")).toEqual(["FIELD_WIRE_JSON_COMPATIBLE_TYPE acme.orders.v1.Line.qty"]);
  });

  it("transitive modes compare with every version, the others with the latest only", () => {
    // v1 -> v2 was string -> bytes (allowed under BACKWARD WIRE at the time); v3 = v2 plus a field.
    const s1 = schema(message("OrderPlaced", [field("order_id", 1, "string")]));
    const s2 = schema(message("OrderPlaced", [field("order_id", 1, "bytes")]));
    const s3 = schema(message("OrderPlaced", [field("order_id", 1, "bytes"), field("note", 2, "string")]));
    const history = [
      { version: 1, schema: s1 },
      { version: 2, schema: s2 },
    ];
    expect(check(history, s3, "FULL", "WIRE").violations).toEqual([]);
    expect(check(history, s3, "FORWARD", "WIRE").violations).toEqual([]);
    const transitive = check(history, s3, "FULL_TRANSITIVE", "WIRE");
    expect(transitive.violations).toEqual([
      expect.objectContaining({ rule: "FIELD_WIRE_COMPATIBLE_TYPE", path: "acme.orders.v1.OrderPlaced.order_id", againstVersion: 1 }),
    ]);
    expect(check(history, s3, "FORWARD_TRANSITIVE", "WIRE").compatible).toBe(false);
    expect(check(history, s3, "BACKWARD_TRANSITIVE", "WIRE").compatible).toBe(true);
  });

  it("messages read like sentences and name the element", () => {
    const changed = schema(message("OrderPlaced", [field("order_id", 1, "string"), field("total_cents", 2, "string")]));
    const [v] = check(v1, changed, "FULL_TRANSITIVE").violations;
    expect(v?.message).toBe(
      'Field "total_cents" (number 2) of message "acme.orders.v1.OrderPlaced" changed type from "int64" to "string". Old and new readers would decode the binary or JSON form of this field differently.',
    );
  });
});
