import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it } from "vitest";
import { compileProtoText, type ProtoSource } from "../../confluent/proto-text-compile.js";
import { checkCompatibility } from "../check-compatibility.js";
import { extractSubjectSchema } from "../schema-set.js";
import type { CompatibilityMode, RuleCategory } from "../types.js";

const S = "acme.orders.v1.OrderPlaced";
const HEAD = `syntax = "proto3";\npackage acme.orders.v1;\n`;

/** One change, its verdicts per category under BACKWARD, FORWARD and FULL ("ok" or the first rule), and what it risks. */
interface Case {
  what: string;
  before: string;
  after: string;
  imports?: ProtoSource[];
  beforeImports?: ProtoSource[];
  expected: Record<RuleCategory, [string, string, string]>;
}

const MONEY = `message Money { int64 cents = 1; string currency = 2; }\n`;
const MONEY_V1: ProtoSource = { name: "acme/money/v1/money.proto", text: `syntax = "proto3";\npackage acme.money.v1;\n${MONEY}` };
const COMMON: ProtoSource = { name: "acme/common/v1/money.proto", text: `syntax = "proto3";\npackage acme.common.v1;\n${MONEY}` };

const cases: Case[] = [
  {
    what: "a field moved into a new oneof",
    before: `${HEAD}message OrderPlaced { string id = 1; string card = 2; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; oneof payment { string card = 2; } }`,
    expected: {
      CONFLUENT: ["ok", "ok", "ok"],
      WIRE: ["FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF"],
      WIRE_JSON: ["FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF"],
    },
  },
  {
    what: "two fields moved into one new oneof",
    before: `${HEAD}message OrderPlaced { string id = 1; string card = 2; string iban = 3; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; oneof payment { string card = 2; string iban = 3; } }`,
    expected: {
      CONFLUENT: ["MULTIPLE_FIELDS_MOVED_TO_ONEOF", "ok", "MULTIPLE_FIELDS_MOVED_TO_ONEOF"],
      WIRE: ["FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF"],
      WIRE_JSON: ["FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF", "FIELD_SAME_ONEOF"],
    },
  },
  {
    what: "a field's type now imported from another package, same name and content",
    before: `${HEAD}import "acme/common/v1/money.proto";\nmessage OrderPlaced { string id = 1; acme.common.v1.Money total = 2; }`,
    after: `${HEAD}import "acme/money/v1/money.proto";\nmessage OrderPlaced { string id = 1; acme.money.v1.Money total = 2; }`,
    beforeImports: [COMMON],
    imports: [MONEY_V1],
    expected: {
      CONFLUENT: ["ok", "ok", "ok"],
      WIRE: ["FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_COMPATIBLE_TYPE"],
      WIRE_JSON: ["FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE"],
    },
  },
  {
    what: "a type moved out of the subject's file to an imported one",
    before: `${HEAD}message OrderPlaced { string id = 1; Money total = 2; }\n${MONEY}`,
    after: `${HEAD}import "acme/common/v1/money.proto";\nmessage OrderPlaced { string id = 1; acme.common.v1.Money total = 2; }`,
    imports: [COMMON],
    expected: {
      CONFLUENT: ["MESSAGE_REMOVED", "ok", "MESSAGE_REMOVED"],
      WIRE: ["FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_COMPATIBLE_TYPE"],
      WIRE_JSON: ["FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE"],
    },
  },
  {
    what: "int32 widened to int64",
    before: `${HEAD}message OrderPlaced { string id = 1; int32 qty = 2; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; int64 qty = 2; }`,
    expected: {
      CONFLUENT: ["ok", "ok", "ok"],
      WIRE: ["ok", "ok", "ok"],
      WIRE_JSON: ["FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE"],
    },
  },
  {
    what: "a field deleted without reserving its number",
    before: `${HEAD}message OrderPlaced { string id = 1; string note = 2; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; }`,
    expected: {
      CONFLUENT: ["ok", "ok", "ok"],
      WIRE: ["FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED"],
      WIRE_JSON: ["FIELD_NO_DELETE_UNLESS_NAME_RESERVED", "FIELD_NO_DELETE_UNLESS_NAME_RESERVED", "FIELD_NO_DELETE_UNLESS_NAME_RESERVED"],
    },
  },
  {
    what: "an enum value deleted without reserving it",
    before: `${HEAD}message OrderPlaced { string id = 1; Kind kind = 2; }\nenum Kind { KIND_UNSPECIFIED = 0; KIND_GIFT = 1; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; Kind kind = 2; }\nenum Kind { KIND_UNSPECIFIED = 0; }`,
    expected: {
      CONFLUENT: ["ok", "ok", "ok"],
      WIRE: ["ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED"],
      WIRE_JSON: ["ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED", "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED"],
    },
  },
  {
    what: "a proto3 field made repeated",
    before: `${HEAD}message OrderPlaced { string id = 1; int32 qty = 2; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; repeated int32 qty = 2; }`,
    expected: {
      CONFLUENT: ["ok", "ok", "ok"],
      WIRE: ["FIELD_WIRE_COMPATIBLE_CARDINALITY", "FIELD_WIRE_COMPATIBLE_CARDINALITY", "FIELD_WIRE_COMPATIBLE_CARDINALITY"],
      WIRE_JSON: ["FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY", "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY", "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"],
    },
  },
  {
    what: "a field added to an existing oneof",
    before: `${HEAD}message OrderPlaced { string id = 1; oneof payment { string card = 2; } }`,
    after: `${HEAD}message OrderPlaced { string id = 1; oneof payment { string card = 2; string iban = 3; } }`,
    expected: { CONFLUENT: ["ok", "ONEOF_FIELD_REMOVED", "ONEOF_FIELD_REMOVED"], WIRE: ["ok", "ok", "ok"], WIRE_JSON: ["ok", "ok", "ok"] },
  },
  {
    what: "another message of the file deleted",
    before: `${HEAD}message OrderPlaced { string id = 1; }\nmessage Unrelated { string x = 1; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; }`,
    expected: { CONFLUENT: ["MESSAGE_REMOVED", "ok", "MESSAGE_REMOVED"], WIRE: ["ok", "ok", "ok"], WIRE_JSON: ["ok", "ok", "ok"] },
  },
  {
    what: "int32 changed to sint32 (same in every category)",
    before: `${HEAD}message OrderPlaced { string id = 1; int32 qty = 2; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; sint32 qty = 2; }`,
    expected: {
      CONFLUENT: ["FIELD_SCALAR_KIND_CHANGED", "FIELD_SCALAR_KIND_CHANGED", "FIELD_SCALAR_KIND_CHANGED"],
      WIRE: ["FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_COMPATIBLE_TYPE", "FIELD_WIRE_COMPATIBLE_TYPE"],
      WIRE_JSON: ["FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE", "FIELD_WIRE_JSON_COMPATIBLE_TYPE"],
    },
  },
  {
    what: "a field renamed",
    before: `${HEAD}message OrderPlaced { string id = 1; string note = 2; }`,
    after: `${HEAD}message OrderPlaced { string id = 1; string remark = 2; }`,
    expected: { CONFLUENT: ["ok", "ok", "ok"], WIRE: ["ok", "ok", "ok"], WIRE_JSON: ["FIELD_SAME_JSON_NAME", "FIELD_SAME_JSON_NAME", "FIELD_SAME_JSON_NAME"] },
  },
  {
    what: "the package renamed",
    before: `${HEAD}message OrderPlaced { string id = 1; }`,
    after: `syntax = "proto3";\npackage acme.orders.v2;\nmessage OrderPlaced { string id = 1; }`,
    // for a subject about its file's first message (Confluent's `orders-value`): every category refuses, Confluent naming the package
    expected: {
      CONFLUENT: ["PACKAGE_CHANGED", "PACKAGE_CHANGED", "PACKAGE_CHANGED"],
      WIRE: ["MESSAGE_NO_DELETE", "MESSAGE_NO_DELETE", "MESSAGE_NO_DELETE"],
      WIRE_JSON: ["MESSAGE_NO_DELETE", "MESSAGE_NO_DELETE", "MESSAGE_NO_DELETE"],
    },
  },
];

async function compile(text: string, imports: ProtoSource[] = []): Promise<FileDescriptorSet> {
  return fromBinary(FileDescriptorSetSchema, await compileProtoText({ name: "acme/orders/v1/orders.proto", text }, imports));
}

function verdict(before: FileDescriptorSet, after: FileDescriptorSet, subjectAfter: string, mode: CompatibilityMode, category: RuleCategory): string {
  const next = extractSubjectSchema(after, subjectAfter);
  const result = checkCompatibility({ subject: subjectAfter, next, history: [{ version: 1, schema: extractSubjectSchema(before, S) }], mode, category });
  return result.compatible ? "ok" : result.violations[0]!.rule;
}

describe("rule category CONFLUENT: Confluent's verdicts beside WIRE and WIRE_JSON", () => {
  const compiled = new Map<Case, { before: FileDescriptorSet; after: FileDescriptorSet }>();
  beforeAll(async () => {
    for (const c of cases) compiled.set(c, { before: await compile(c.before, c.beforeImports), after: await compile(c.after, c.imports) });
  });

  for (const c of cases) {
    it(c.what, () => {
      const { before, after } = compiled.get(c)!;
      const subjectAfter = c.after.includes("acme.orders.v2") ? "acme.orders.v2.OrderPlaced" : S;
      const got = Object.fromEntries(
        (["CONFLUENT", "WIRE", "WIRE_JSON"] as const).map((category) => [
          category,
          (["BACKWARD", "FORWARD", "FULL"] as const).map((mode) => verdict(before, after, subjectAfter, mode, category)),
        ]),
      );
      expect(got).toEqual(c.expected);
    });
  }
});
