import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistryServer, type RegistryServer } from "../server/registry-server.js";

const ADMIN = "admin-token-0123456789abcdef";
const WRITER = "write-token-0123456789abcdef";
const READER = "read-token-0123456789abcdef";
const tokens = [
  { name: "ops", role: "admin" as const, token: ADMIN },
  { name: "ci", role: "write" as const, token: WRITER },
  { name: "svc", role: "read" as const, token: READER },
];

const V1 = `syntax = "proto3";
package acme.orders.v1;
import "google/protobuf/timestamp.proto";
message OrderPlaced {
  string order_id = 1;
  google.protobuf.Timestamp placed_at = 2;
}
`;
const V2 = V1.replace("placed_at = 2;", "placed_at = 2;\n  int64 total_cents = 3;");
const INCOMPATIBLE = V1.replace("string order_id = 1;", "int64 order_id = 1;");

interface Reply {
  status: number;
  type: string | null;
  body: unknown;
}

/** A Confluent API call as its clients make it: Basic auth with the token as password, Confluent's content type. */
async function call(server: RegistryServer, method: string, path: string, body?: unknown, token: string | null = ADMIN): Promise<Reply> {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      "content-type": "application/vnd.schemaregistry.v1+json",
      ...(token ? { authorization: `Basic ${Buffer.from(`user:${token}`).toString("base64")}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // raw schema text
  }
  return { status: res.status, type: res.headers.get("content-type"), body: parsed };
}

function errorOf(reply: Reply): { status: number; code: unknown } {
  return { status: reply.status, code: (reply.body as { error_code?: unknown }).error_code };
}

describe("Confluent REST API on a registry server (JetStream KV, real HTTP)", () => {
  let nats: LocalServer;
  let server: RegistryServer;

  beforeAll(async () => {
    nats = await startLocalServer();
    server = await startRegistryServer({ nats: nats.url, auth: { tokens } });
  });
  afterAll(async () => {
    await server?.close();
    await nats?.stop();
  });

  it("registers .proto text, answers it by subject, version, latest and integer id, and looks it up", async () => {
    const reg = await call(server, "POST", "/subjects/orders-value/versions", { schema: V1, schemaType: "PROTOBUF", unknownField: 1 }, WRITER);
    expect(reg).toMatchObject({ status: 200, type: "application/vnd.schemaregistry.v1+json" });
    const id = (reg.body as { id: number }).id;
    expect(reg.body).toEqual({ id });
    expect(Number.isInteger(id) && id > 0).toBe(true);

    // the same content again: same id, no new version
    expect((await call(server, "POST", "/subjects/orders-value/versions", { schema: V1, schemaType: "PROTOBUF" })).body).toEqual({ id });
    expect((await call(server, "GET", "/subjects")).body).toEqual(["orders-value"]);
    expect((await call(server, "GET", "/subjects/orders-value/versions")).body).toEqual([1]);

    const v1 = (await call(server, "GET", "/subjects/orders-value/versions/1", undefined, READER)).body as Record<string, unknown>;
    expect(Object.keys(v1).sort()).toEqual(["id", "schema", "schemaType", "subject", "version"]);
    expect(v1).toMatchObject({ subject: "orders-value", version: 1, id, schemaType: "PROTOBUF" });
    expect(v1["schema"]).toContain("message OrderPlaced {");
    expect((await call(server, "GET", "/subjects/orders-value/versions/latest")).body).toEqual(v1);
    expect((await call(server, "GET", "/subjects/orders-value/versions/-1")).body).toEqual(v1);
    expect((await call(server, "GET", "/subjects/orders-value/versions/1/schema")).body).toBe(v1["schema"]);
    expect((await call(server, "GET", `/schemas/ids/${id}?fetchMaxId=false&subject=orders-value`)).body).toEqual({
      schemaType: "PROTOBUF",
      schema: v1["schema"],
    });
    expect((await call(server, "GET", `/schemas/ids/${id}?fetchMaxId=true`)).body).toMatchObject({ maxId: id });
    expect((await call(server, "GET", `/schemas/ids/${id}/versions`)).body).toEqual([{ subject: "orders-value", version: 1 }]);
    expect((await call(server, "GET", "/schemas/types")).body).toEqual(["PROTOBUF"]);

    // lookup by the original text and by the rendered text: the same schema
    expect((await call(server, "POST", "/subjects/orders-value", { schema: V1, schemaType: "PROTOBUF" })).body).toEqual(v1);
    expect((await call(server, "POST", "/subjects/orders-value", { schema: v1["schema"], schemaType: "PROTOBUF" })).body).toEqual(v1);

    // the same schema under another subject has the same id, as in Confluent
    expect((await call(server, "POST", "/subjects/orders-copy-value/versions", { schema: V1, schemaType: "PROTOBUF" })).body).toEqual({ id });
    expect((await call(server, "GET", `/schemas/ids/${id}/versions`)).body).toEqual([
      { subject: "orders-copy-value", version: 1 },
      { subject: "orders-value", version: 1 },
    ]);
  });

  it("judges compatibility under the subject's level, with verbose messages, and refuses an incompatible version with 409", async () => {
    expect((await call(server, "PUT", "/config/orders-value", { compatibility: "BACKWARD" })).body).toEqual({ compatibility: "BACKWARD" });
    expect((await call(server, "GET", "/config/orders-value")).body).toEqual({ compatibilityLevel: "BACKWARD" });
    expect((await call(server, "GET", "/config")).body).toEqual({ compatibilityLevel: "FULL_TRANSITIVE" });

    const ok = await call(server, "POST", "/compatibility/subjects/orders-value/versions/latest", { schema: V2, schemaType: "PROTOBUF" });
    expect(ok.body).toEqual({ is_compatible: true });
    const bad = await call(server, "POST", "/compatibility/subjects/orders-value/versions/1?verbose=true", { schema: INCOMPATIBLE, schemaType: "PROTOBUF" });
    expect(bad.body).toMatchObject({ is_compatible: false });
    expect((bad.body as { messages: string[] }).messages[0]).toMatch(/^FIELD_WIRE(_JSON)?_COMPATIBLE_TYPE: /);

    expect(errorOf(await call(server, "POST", "/subjects/orders-value/versions", { schema: INCOMPATIBLE, schemaType: "PROTOBUF" }))).toEqual({
      status: 409,
      code: 409,
    });
    const v2 = await call(server, "POST", "/subjects/orders-value/versions", { schema: V2, schemaType: "PROTOBUF" });
    expect(v2.status).toBe(200);
    expect((await call(server, "GET", "/subjects/orders-value/versions")).body).toEqual([1, 2]);

    expect((await call(server, "DELETE", "/config/orders-value")).body).toEqual({ compatibilityLevel: "BACKWARD" });
    expect(errorOf(await call(server, "GET", "/config/orders-value"))).toEqual({ status: 404, code: 40408 });
    expect((await call(server, "GET", "/config/orders-value?defaultToGlobal=true")).body).toEqual({ compatibilityLevel: "FULL_TRANSITIVE" });
  });

  it("soft-deletes, then deletes for good, with Confluent's codes for each wrong order", async () => {
    await call(server, "POST", "/subjects/gone-value/versions", { schema: V1, schemaType: "PROTOBUF" });
    await call(server, "POST", "/subjects/gone-value/versions", { schema: V2, schemaType: "PROTOBUF" });
    expect(errorOf(await call(server, "DELETE", "/subjects/gone-value/versions/1?permanent=true"))).toEqual({ status: 404, code: 40407 });
    expect((await call(server, "DELETE", "/subjects/gone-value/versions/1")).body).toBe(1);
    expect(errorOf(await call(server, "DELETE", "/subjects/gone-value/versions/1"))).toEqual({ status: 404, code: 40406 });
    expect((await call(server, "GET", "/subjects/gone-value/versions")).body).toEqual([2]);
    expect((await call(server, "GET", "/subjects/gone-value/versions?deleted=true")).body).toEqual([1, 2]);
    expect((await call(server, "GET", "/subjects/gone-value/versions/1?deleted=true")).status).toBe(200);
    expect((await call(server, "DELETE", "/subjects/gone-value/versions/1?permanent=true")).body).toBe(1);

    expect(errorOf(await call(server, "DELETE", "/subjects/gone-value?permanent=true"))).toEqual({ status: 404, code: 40405 });
    expect((await call(server, "DELETE", "/subjects/gone-value")).body).toEqual([2]);
    expect(errorOf(await call(server, "DELETE", "/subjects/gone-value"))).toEqual({ status: 404, code: 40404 });
    expect((await call(server, "GET", "/subjects")).body).not.toContain("gone-value");
    expect((await call(server, "GET", "/subjects?deleted=true")).body).toContain("gone-value");
    expect((await call(server, "DELETE", "/subjects/gone-value?permanent=true")).body).toEqual([2]);
    expect(errorOf(await call(server, "GET", "/subjects/gone-value/versions"))).toEqual({ status: 404, code: 40401 });
  });

  it("resolves references as imports and answers them with the schema", async () => {
    const common = `syntax = "proto3";\npackage acme.common.v1;\nmessage Money {\n  int64 cents = 1;\n  string currency = 2;\n}\n`;
    await call(server, "POST", "/subjects/acme%2Fcommon%2Fv1%2Fmoney.proto/versions", { schema: common, schemaType: "PROTOBUF" });
    const refs = [{ name: "acme/common/v1/money.proto", subject: "acme/common/v1/money.proto", version: 1 }];
    const priced = `syntax = "proto3";\npackage acme.orders.v1;\nimport "acme/common/v1/money.proto";\nmessage OrderPriced {\n  string order_id = 1;\n  acme.common.v1.Money total = 2;\n}\n`;
    const reg = await call(server, "POST", "/subjects/priced-value/versions", { schema: priced, schemaType: "PROTOBUF", references: refs });
    expect(reg.status).toBe(200);
    const v = (await call(server, "GET", "/subjects/priced-value/versions/latest")).body as Record<string, unknown>;
    expect(v["references"]).toEqual(refs);
    expect(v["schema"]).toContain('import "acme/common/v1/money.proto";');
    expect((await call(server, "GET", `/schemas/ids/${(reg.body as { id: number }).id}`)).body).toMatchObject({ references: refs });
    // an import no reference names does not compile
    expect(errorOf(await call(server, "POST", "/subjects/priced2-value/versions", { schema: priced, schemaType: "PROTOBUF" }))).toEqual({
      status: 422,
      code: 42201,
    });
  });

  it("keeps modes: READONLY refuses writes, IMPORT takes ids and versions", async () => {
    expect((await call(server, "GET", "/mode")).body).toEqual({ mode: "READWRITE" });
    expect(errorOf(await call(server, "GET", "/mode/orders-value"))).toEqual({ status: 404, code: 40409 });
    expect((await call(server, "PUT", "/mode/orders-value", { mode: "READONLY" })).body).toEqual({ mode: "READONLY" });
    expect((await call(server, "GET", "/mode/orders-value")).body).toEqual({ mode: "READONLY" });
    expect(errorOf(await call(server, "POST", "/subjects/orders-value/versions", { schema: V2, schemaType: "PROTOBUF" }))).toEqual({
      status: 422,
      code: 42205,
    });
    expect((await call(server, "DELETE", "/mode/orders-value")).body).toEqual({ mode: "READONLY" });
    expect(errorOf(await call(server, "PUT", "/mode", { mode: "WRITEONLY" }))).toEqual({ status: 422, code: 42204 });

    // ids and versions only in IMPORT mode
    const body = { schema: V1.replace("OrderPlaced", "OrderImported"), schemaType: "PROTOBUF", id: 1000, version: 7 };
    expect(errorOf(await call(server, "POST", "/subjects/imported-value/versions", body))).toEqual({ status: 422, code: 42205 });
    expect((await call(server, "PUT", "/mode/imported-value", { mode: "IMPORT" })).body).toEqual({ mode: "IMPORT" });
    expect((await call(server, "POST", "/subjects/imported-value/versions", body)).body).toEqual({ id: 1000 });
    expect((await call(server, "GET", "/subjects/imported-value/versions")).body).toEqual([7]);
    expect((await call(server, "GET", "/schemas/ids/1000")).status).toBe(200);
    // idempotent, and an id that belongs to another schema is refused
    expect((await call(server, "POST", "/subjects/imported-value/versions", body)).body).toEqual({ id: 1000 });
    expect(errorOf(await call(server, "POST", "/subjects/imported-value/versions", { ...body, schema: V2, version: 8 }))).toEqual({ status: 422, code: 42205 });
    expect(errorOf(await call(server, "POST", "/subjects/imported-value/versions", { ...body, id: undefined, version: 3, schema: V2 }))).toEqual({
      status: 422,
      code: 42202,
    });
    // ids assigned later continue after the highest one
    const next = await call(server, "POST", "/subjects/after-import-value/versions", {
      schema: V1.replace("OrderPlaced", "AfterImport"),
      schemaType: "PROTOBUF",
    });
    expect(next.body).toEqual({ id: 1001 });

    // global READONLY is the registry's read-only setting
    expect((await call(server, "PUT", "/mode", { mode: "READONLY" })).body).toEqual({ mode: "READONLY" });
    expect(server.registry.getConfig("").readOnly).toBe(true);
    expect(errorOf(await call(server, "DELETE", "/subjects/orders-copy-value"))).toEqual({ status: 422, code: 42205 });
    expect((await call(server, "PUT", "/mode", { mode: "READWRITE" })).body).toEqual({ mode: "READWRITE" });
  });

  it("judges a subject whose rule category is CONFLUENT as Confluent's registry does", async () => {
    const before = `syntax = "proto3";\npackage acme.pay.v1;\nmessage Paid {\n  string id = 1;\n  string card = 2;\n}\n`;
    const after = before.replace("string card = 2;", "oneof method {\n    string card = 2;\n  }");
    for (const subject of ["paid-wire-value", "paid-confluent-value"]) {
      await call(server, "POST", `/subjects/${subject}/versions`, { schema: before, schemaType: "PROTOBUF" });
    }
    await server.registry.setConfig({ subject: "paid-confluent-value", category: "CONFLUENT" });
    // WIRE_JSON (the default) refuses a field moved into a new oneof; Confluent accepts it
    expect(errorOf(await call(server, "POST", "/subjects/paid-wire-value/versions", { schema: after, schemaType: "PROTOBUF" }))).toEqual({
      status: 409,
      code: 409,
    });
    expect((await call(server, "POST", "/subjects/paid-confluent-value/versions", { schema: after, schemaType: "PROTOBUF" })).status).toBe(200);
    const bad = await call(server, "POST", "/compatibility/subjects/paid-confluent-value/versions/latest?verbose=true", {
      schema: after.replace("string id = 1;", "sint64 id = 1;"),
      schemaType: "PROTOBUF",
    });
    expect(bad.body).toMatchObject({ is_compatible: false });
    expect((bad.body as { messages: string[] }).messages.every((m) => m.startsWith("FIELD_SCALAR_KIND_CHANGED: field acme.pay.v1.Paid.id"))).toBe(true);
  });

  it("answers every bad request with Confluent's status and error code", async () => {
    const cases: Array<[string, string, string, unknown, string | null, number, number]> = [
      ["unknown subject", "GET", "/subjects/nope-value/versions", undefined, ADMIN, 404, 40401],
      ["unknown version", "GET", "/subjects/orders-value/versions/99", undefined, ADMIN, 404, 40402],
      ["unknown id", "GET", "/schemas/ids/99999", undefined, ADMIN, 404, 40403],
      ["lookup of an unregistered schema", "POST", "/subjects/orders-value", { schema: INCOMPATIBLE, schemaType: "PROTOBUF" }, ADMIN, 404, 40403],
      ["text that does not compile", "POST", "/subjects/x-value/versions", { schema: "message {", schemaType: "PROTOBUF" }, ADMIN, 422, 42201],
      ["an Avro schema", "POST", "/subjects/x-value/versions", { schema: '{"type":"string"}' }, ADMIN, 422, 42201],
      ["no schema", "POST", "/subjects/x-value/versions", { schemaType: "PROTOBUF" }, ADMIN, 422, 42201],
      ["version 0", "GET", "/subjects/orders-value/versions/0", undefined, ADMIN, 422, 42202],
      ["version text", "GET", "/subjects/orders-value/versions/first", undefined, ADMIN, 422, 42202],
      ["unknown compatibility level", "PUT", "/config", { compatibility: "SIDEWAYS" }, ADMIN, 422, 42203],
      ["unknown mode", "PUT", "/mode/orders-value", { mode: "SOMETIMES" }, ADMIN, 422, 42204],
      ["no token", "GET", "/subjects", undefined, null, 401, 40101],
      ["a read token writing", "POST", "/subjects/x-value/versions", { schema: V1, schemaType: "PROTOBUF" }, READER, 403, 40301],
      ["a write token changing settings", "PUT", "/config", { compatibility: "NONE" }, WRITER, 403, 40301],
      ["a body that is not JSON", "POST", "/subjects/x-value/versions", "not json", ADMIN, 400, 400],
      ["a wrong method", "PATCH", "/subjects", undefined, ADMIN, 405, 405],
    ];
    for (const [what, method, path, body, token, status, code] of cases) {
      const reply =
        body === "not json"
          ? await fetch(server.url + path, { method, headers: { authorization: `Bearer ${token}` }, body: "{not json" }).then(async (r) => ({
              status: r.status,
              type: r.headers.get("content-type"),
              body: (await r.json()) as unknown,
            }))
          : await call(server, method, path, body, token);
      expect({ what, ...errorOf(reply) }).toEqual({ what, status, code });
      expect(reply.type).toBe("application/vnd.schemaregistry.v1+json");
      expect(typeof (reply.body as { message?: unknown }).message).toBe("string");
    }
  });

  it("keeps Chronicle's own paths: /schemas/ids/sha256:... and the Connect API beside Confluent's", async () => {
    const v = server.registry.getLatestVersion("orders-value");
    const res = await fetch(`${server.url}/schemas/ids/${v.id}`, { headers: { authorization: `Bearer ${READER}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/FileDescriptorSet/);
  });
});

describe("integer ids across servers and restarts", () => {
  it("gives the same schema one id on two servers sharing a bucket, and keeps it after a restart", async () => {
    await using nats = await startLocalServer();
    const auth = { tokens };
    let a = await startRegistryServer({ nats: nats.url, auth });
    const b = await startRegistryServer({ nats: nats.url, auth });
    try {
      const schemas = Array.from({ length: 6 }, (_, i) => V1.replace("OrderPlaced", `Order${i}`));
      // the same six schemas registered on both servers at once, under different subjects
      const replies = await Promise.all(
        schemas.flatMap((schema, i) => [
          call(a, "POST", `/subjects/a${i}-value/versions`, { schema, schemaType: "PROTOBUF" }),
          call(b, "POST", `/subjects/b${i}-value/versions`, { schema, schemaType: "PROTOBUF" }),
        ]),
      );
      const ids = replies.map((r) => (r.body as { id: number }).id);
      for (let i = 0; i < schemas.length; i++) expect(ids[2 * i]).toBe(ids[2 * i + 1]);
      expect(new Set(ids).size).toBe(schemas.length);
      await a.close();
      a = await startRegistryServer({ nats: nats.url, auth });
      for (let i = 0; i < schemas.length; i++) {
        const again = await call(a, "POST", `/subjects/c${i}-value/versions`, { schema: schemas[i], schemaType: "PROTOBUF" });
        expect((again.body as { id: number }).id).toBe(ids[2 * i]);
        expect(((await call(a, "GET", `/schemas/ids/${ids[2 * i]}`)).body as { schema: string }).schema).toContain(`message Order${i} {`);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("answers reads from its copy while NATS is down, and a write with 500/50001", async () => {
    const nats = await startLocalServer();
    const server = await startRegistryServer({ nats: nats.url, auth: { tokens } });
    try {
      await call(server, "POST", "/subjects/down-value/versions", { schema: V1, schemaType: "PROTOBUF" });
      await nats.stop();
      expect((await call(server, "GET", "/subjects/down-value/versions/latest")).status).toBe(200);
      const refused = await call(server, "POST", "/subjects/down2-value/versions", { schema: V1.replace("OrderPlaced", "Down"), schemaType: "PROTOBUF" });
      expect(errorOf(refused)).toEqual({ status: 500, code: 50001 });
    } finally {
      await server.close();
      await nats.stop();
    }
  }, 60_000);
});
