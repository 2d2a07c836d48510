import { FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { checkModule } from "./check-module.js";
import { enumType, field, file, message, set } from "./testing-fixtures.js";

// Two files: shared types (Money, Status) and events that use them. Each test
// changes one element and asks which subjects the violation affects.
const common = (
  money = [field("cents", 1, "int64")],
  status: [string, number][] = [
    ["STATUS_UNSPECIFIED", 0],
    ["STATUS_OPEN", 1],
  ],
  pkg = "acme.common.v1",
) => file("acme/common/v1/common.proto", pkg, [message("Money", money), message("Unused", [field("x", 1, "string")])], { enums: [enumType("Status", status)] });
const events = (deps = ["acme/common/v1/common.proto"]) =>
  file(
    "acme/orders/v1/events.proto",
    "acme.orders.v1",
    [
      message("OrderPlaced", [field("total", 1, ".acme.common.v1.Money"), field("status", 2, "enum:.acme.common.v1.Status")]),
      message("OrderPaid", [field("amount", 1, ".acme.common.v1.Money")]),
      message("OrderNoted", [field("note", 1, "string")], { nested: [message("Line", [field("qty", 1, "int32")])] }),
    ],
    { deps },
  );
const subjects = [
  "acme.common.v1.Money",
  "acme.common.v1.Unused",
  "acme.orders.v1.OrderNoted",
  "acme.orders.v1.OrderNoted.Line",
  "acme.orders.v1.OrderPaid",
  "acme.orders.v1.OrderPlaced",
];

function check(next: ReturnType<typeof set>, mode: "BACKWARD" | "FULL_TRANSITIVE" | "NONE" = "FULL_TRANSITIVE") {
  return checkModule({ previous: set(common(), events()), current: next, subjects, mode, category: "WIRE_JSON" }).violations.map((v) => ({
    rule: v.rule,
    path: v.path,
    subjects: v.subjects,
  }));
}

describe("checkModule", () => {
  it("reports a change in a shared message once, with every subject that reaches it", () => {
    expect(check(set(common([field("cents", 1, "string")]), events()))).toEqual([
      {
        rule: "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
        path: "acme.common.v1.Money.cents",
        subjects: ["acme.common.v1.Money", "acme.orders.v1.OrderPaid", "acme.orders.v1.OrderPlaced"],
      },
    ]);
  });

  it("reports a deleted enum value with the subjects that use the enum", () => {
    expect(check(set(common(undefined, [["STATUS_UNSPECIFIED", 0]]), events()))).toEqual([
      { rule: "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", path: "acme.common.v1.Status.STATUS_OPEN", subjects: ["acme.orders.v1.OrderPlaced"] },
      { rule: "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", path: "acme.common.v1.Status.STATUS_OPEN", subjects: ["acme.orders.v1.OrderPlaced"] },
    ]);
  });

  it("a nested message affects its parent; a field added anywhere affects nothing", () => {
    const changed = events();
    changed.messageType[2]!.nestedType[0]!.field[0]!.type = FieldDescriptorProto_Type.STRING; // qty: int32 -> string
    changed.messageType[1]!.field.push(field("currency", 2, "string"));
    expect(check(set(common(), changed))).toEqual([
      {
        rule: "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
        path: "acme.orders.v1.OrderNoted.Line.qty",
        subjects: ["acme.orders.v1.OrderNoted", "acme.orders.v1.OrderNoted.Line"],
      },
    ]);
  });

  it("reports a file's new package against the messages it declares, which no subject-scoped check sees", () => {
    const moved = common(undefined, undefined, "acme.shared.v1");
    const violations = check(set(moved, events()));
    expect(violations.find((v) => v.rule === "FILE_SAME_PACKAGE")).toEqual({
      rule: "FILE_SAME_PACKAGE",
      path: "acme/common/v1/common.proto",
      subjects: ["acme.common.v1.Money", "acme.common.v1.Unused"],
    });
  });

  it("leaves out files not asked for, and NONE accepts anything", () => {
    const next = set(common([field("cents", 1, "string")]), events());
    const only = checkModule({
      previous: set(common(), events()),
      current: next,
      files: new Set(["acme/orders/v1/events.proto"]),
      mode: "FULL",
      category: "WIRE",
    });
    expect(only).toEqual({ compatible: true, violations: [] });
    expect(check(next, "NONE")).toEqual([]);
  });

  it("adding a field or a message passes in every mode", () => {
    const grown = events();
    grown.messageType.push(message("OrderShipped", [field("id", 1, "string")]));
    grown.messageType[0]!.field.push(field("note", 3, "string"));
    for (const mode of ["BACKWARD", "FULL_TRANSITIVE"] as const) expect(check(set(common(), grown), mode)).toEqual([]);
  });
});
