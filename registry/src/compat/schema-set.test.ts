import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, SourceCodeInfoSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { findCorpus, loadOracle } from "./conformance/buf-oracle.js";
import { SchemaValidationError } from "./errors.js";
import { indexSchema } from "./model.js";
import { extractSubjectSchema, normalizeSchema, schemaId, subjectSchemas, validateSchemaSet } from "./schema-set.js";
import { field, file, message, set } from "./testing-fixtures.js";
import { referenceSchemaId } from "./testing-reference-id.js";

const common = () => file("acme/common/v1/money.proto", "acme.common.v1", [message("Money", [field("cents", 1, "int64")])]);
const orders = () =>
  file("acme/orders/v1/orders.proto", "acme.orders.v1", [message("OrderPlaced", [field("total", 1, ".acme.common.v1.Money")])], {
    deps: ["acme/common/v1/money.proto"],
  });
const other = () => file("acme/users/v1/users.proto", "acme.users.v1", [message("UserSignedUp", [field("user_id", 1, "string")])]);

describe("schemaId and normalizeSchema", () => {
  it("is the same for the same schema in any file order, with or without source info and json_name", () => {
    const a = set(common(), orders());
    const b = set(orders(), common());
    const withInfo = orders();
    withInfo.sourceCodeInfo = create(SourceCodeInfoSchema, { location: [{ path: [4, 0], span: [1, 0, 3] }] });
    const c = set(withInfo, common());
    const d = set(orders(), common());
    for (const f of d.file) for (const m of f.messageType) for (const x of m.field) x.jsonName = x.name.replace(/_(.)/g, (_, ch: string) => ch.toUpperCase());
    const id = schemaId(a);
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(schemaId(b)).toBe(id);
    expect(schemaId(c)).toBe(id);
    expect(schemaId(d)).toBe(id);
  });

  it("differs when the schema differs", () => {
    const changed = orders();
    changed.messageType[0]?.field.push(field("note", 2, "string"));
    expect(schemaId(set(common(), changed))).not.toBe(schemaId(set(common(), orders())));
  });

  it("puts imports first, strips source info, fills json_name and leaves its input alone", () => {
    const input = set(orders(), common());
    input.file[0]!.sourceCodeInfo = create(SourceCodeInfoSchema, { location: [] });
    const before = toBinary(FileDescriptorSetSchema, input);
    const out = normalizeSchema(input);
    expect(out.file.map((f) => f.name)).toEqual(["acme/common/v1/money.proto", "acme/orders/v1/orders.proto"]);
    expect(out.file.every((f) => f.sourceCodeInfo === undefined)).toBe(true);
    expect(out.file[1]?.messageType[0]?.field[0]?.jsonName).toBe("total");
    expect(toBinary(FileDescriptorSetSchema, input)).toEqual(before);
  });
});

describe("validateSchemaSet", () => {
  const reason = (fn: () => void): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (e) {
      expect(e).toBeInstanceOf(SchemaValidationError);
      return (e as SchemaValidationError).reason;
    }
  };

  it("accepts a self-contained set", () => {
    expect(() => validateSchemaSet(set(common(), orders()))).not.toThrow();
  });

  it("rejects an empty set, duplicate files, unresolved imports, unresolved types and duplicate names", () => {
    expect(reason(() => validateSchemaSet(set()))).toBe("EMPTY_SCHEMA");
    expect(reason(() => validateSchemaSet(set(common(), common(), orders())))).toBe("DUPLICATE_FILE");
    expect(reason(() => validateSchemaSet(set(orders())))).toBe("UNRESOLVED_IMPORT");
    const dangling = file("x.proto", "x", [message("M", [field("m", 1, ".x.Missing")])]);
    expect(reason(() => validateSchemaSet(set(dangling)))).toBe("UNRESOLVED_TYPE");
    const twice = file("y.proto", "acme.common.v1", [message("Money", [])]);
    expect(reason(() => validateSchemaSet(set(common(), twice)))).toBe("DUPLICATE_NAME");
  });

  it("says which import is missing", () => {
    try {
      validateSchemaSet(set(orders()));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SchemaValidationError);
      expect((e as SchemaValidationError).element).toBe("acme/common/v1/money.proto");
      expect((e as Error).message).toMatch(/imports "acme\/common\/v1\/money.proto", which is not in the descriptor set/);
    }
  });
});

describe("extractSubjectSchema", () => {
  it("keeps the declaring file and its imports, transitively, and nothing else", () => {
    const out = extractSubjectSchema(set(other(), common(), orders()), "acme.orders.v1.OrderPlaced");
    expect(out.file.map((f) => f.name)).toEqual(["acme/common/v1/money.proto", "acme/orders/v1/orders.proto"]);
    expect(() => validateSchemaSet(out)).not.toThrow();
  });

  it("is a view: it holds the image's own file descriptors, not copies", () => {
    const image = set(other(), common(), orders());
    const out = extractSubjectSchema(image, "acme.orders.v1.OrderPlaced");
    expect(out.file[0]).toBe(image.file[1]);
    expect(out.file[1]).toBe(image.file[2]);
  });

  it("throws SUBJECT_NOT_FOUND for an unknown message", () => {
    expect(() => extractSubjectSchema(set(common()), "acme.orders.v1.Nope")).toThrow(SchemaValidationError);
  });
});

function expectReferenceIds(fds: FileDescriptorSet): void {
  expect(schemaId(fds)).toBe(referenceSchemaId(fds));
  expect(schemaId(normalizeSchema(fds))).toBe(referenceSchemaId(fds));
  // every message of one file has the same schema, so the (slow) reference runs once per file
  const subjects = subjectSchemas(fds);
  const referenceByFile = new Map<string, string>();
  for (const [name, node] of indexSchema(fds).messages) {
    let id = referenceByFile.get(node.file.path);
    if (id === undefined) {
      id = referenceSchemaId(extractSubjectSchema(fds, name));
      referenceByFile.set(node.file.path, id);
      expect(schemaId(extractSubjectSchema(fds, name))).toBe(id);
    }
    expect(subjects.idOf(name)).toBe(id);
  }
}

describe("schemaId against the reference implementation (copy, normalise, toBinary, hash)", () => {
  it("is equal for sets built in code, with json_name gaps, source info and unknown fields", () => {
    const withInfo = orders();
    withInfo.sourceCodeInfo = create(SourceCodeInfoSchema, { location: [{ path: [4, 0], span: [1, 0, 3] }] });
    withInfo.$unknown = [{ no: 8042, wireType: 2, data: new Uint8Array([8, 1]) }];
    const withSetUnknown = set(common(), other());
    withSetUnknown.$unknown = [{ no: 7, wireType: 0, data: new Uint8Array([1]) }];
    for (const fds of [set(common(), orders()), set(orders(), common(), other()), set(withInfo, common()), withSetUnknown]) expectReferenceIds(fds);
  });

  it("is equal for a buf image with imports and source info, for the image and each of its subjects", () => {
    expectReferenceIds(fromBinary(FileDescriptorSetSchema, readFileSync(new URL("./testdata/pinned-image.binpb", import.meta.url))));
  });

  const corpus = findCorpus();
  it.skipIf(corpus === undefined)(
    "is equal for every image of Buf's corpus and every message in it",
    async () => {
      for (const c of await loadOracle(corpus ?? "", 2)) {
        expectReferenceIds(c.previous);
        expectReferenceIds(c.current);
      }
    },
    240_000,
  );
});

describe("subjectSchemas", () => {
  it("gives every message of one file the same view and id, and other files theirs", () => {
    const image = set(other(), common(), orders());
    const subjects = subjectSchemas(image);
    const nested = file("acme/orders/v1/more.proto", "acme.orders.v1", [message("A", [], { nested: [message("B", [])] })]);
    const more = subjectSchemas(set(nested));
    expect(more.schemaOf("acme.orders.v1.A")).toBe(more.schemaOf("acme.orders.v1.A.B"));
    expect(more.idOf("acme.orders.v1.A")).toBe(more.idOf("acme.orders.v1.A.B"));
    expect(subjects.schemaOf("acme.orders.v1.OrderPlaced")).not.toBe(subjects.schemaOf("acme.users.v1.UserSignedUp"));
    expect(subjects.idOf("acme.orders.v1.OrderPlaced")).toBe(schemaId(extractSubjectSchema(image, "acme.orders.v1.OrderPlaced")));
    expect(subjects.declares("acme.common.v1.Money")).toBe(true);
    expect(subjects.declares("acme.common.v1.Nope")).toBe(false);
    expect(() => subjects.idOf("acme.common.v1.Nope")).toThrow(SchemaValidationError);
  });
});
