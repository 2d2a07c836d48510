// Schema ids are stored by registries and carried by generated code, so the
// id of a given schema must never change. These ids were computed once and
// are pinned here: a change to normalisation, ordering or encoding that
// alters any of them fails this test. testdata/pinned-image.binpb is
// `buf build -o ../pinned-image.binpb` run in testdata/pinned (an image:
// imports included, source info kept, buf's image extension on each file).
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { extractSubjectSchema, normalizeSchema, schemaId } from "./schema-set.js";
import { enumType, field, file, message, set } from "./testing-fixtures.js";

const image = () => fromBinary(FileDescriptorSetSchema, readFileSync(new URL("./testdata/pinned-image.binpb", import.meta.url)));

const pinnedSubjects: Record<string, string> = {
  "acme.pins.v1.OrderPlaced": "sha256:1cba64a1c9089172d86fece272083daefab65b19954df00aa7fe4d6fd1cff201",
  "acme.pins.v1.OrderPlaced.Line": "sha256:1cba64a1c9089172d86fece272083daefab65b19954df00aa7fe4d6fd1cff201",
  "acme.pins.v1.OrderShipped": "sha256:1cba64a1c9089172d86fece272083daefab65b19954df00aa7fe4d6fd1cff201",
  "acme.pins.v1.Legacy": "sha256:794a5dec6ba742fd50f27e1197009b8193e3bb544a257ee532628054f454d171",
  "acme.pins.v1.Modern": "sha256:a8e89b0b80fd79beaff1d76809c28b2dbe4096db9fd1bbc5c47ea4151374184d",
  "acme.pins.v1.Money": "sha256:868e5d98e06689d9c441b7b38fc8c09e7370e8ab1981584bdb1422b1d48fd034",
};

function fixture() {
  const common = file("acme/common/v1/money.proto", "acme.common.v1", [message("Money", [field("cents", 1, "int64")])], {
    enums: [enumType("Kind", [["KIND_UNSPECIFIED", 0]])],
  });
  const orders = file(
    "acme/orders/v1/orders.proto",
    "acme.orders.v1",
    [
      message("OrderPlaced", [
        field("total", 1, ".acme.common.v1.Money"),
        field("kind", 2, "enum:.acme.common.v1.Kind"),
        field("tag_list", 3, "string", { repeated: true }),
      ]),
    ],
    { deps: ["acme/common/v1/money.proto"] },
  );
  return { common, orders };
}

describe("pinned schema ids", () => {
  it("the whole image keeps its id", () => {
    expect(schemaId(image())).toBe("sha256:0076ca33a3186f483ce46b130db7eb8b93e72c9a82990c656ccf318b4c2efa00");
  });

  it.each(Object.entries(pinnedSubjects))("subject %s keeps its id, directly and after normalisation (the registry's path)", (subject, id) => {
    const extracted = extractSubjectSchema(image(), subject);
    expect(schemaId(extracted)).toBe(id);
    expect(schemaId(normalizeSchema(extracted))).toBe(id);
  });

  it("a set built in code keeps its id, in any file order", () => {
    const { common, orders } = fixture();
    expect(schemaId(set(orders, common))).toBe("sha256:7d19e5f561e93aed876a29a8cd947053246eded0deb9cf693375c01a6ec9f88b");
  });

  it("unknown fields of the set itself stay part of the id", () => {
    const { common, orders } = fixture();
    const withUnknown = set(common, orders);
    withUnknown.$unknown = [{ no: 99, wireType: 2, data: new Uint8Array([3, 1, 2, 3]) }];
    expect(schemaId(withUnknown)).toBe("sha256:7a35dd1b02554da23144c6c3da7c14df4fb626a30487c6e5b7b58b57ea7bfe64");
  });
});
