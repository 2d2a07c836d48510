import { randomBytes } from "node:crypto";
import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SourceCodeInfoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistryClient, violationsOf, type RegistryClient } from "../client/registry-client.js";
import {
  GetLatestVersionRequestSchema,
  GetSchemaRequestSchema,
  GetSchemaResponseSchema,
  GetVersionRequestSchema,
  RegisterRequestSchema,
  RegisterResponseSchema,
} from "../gen/chronicle/registry/v1/registry_pb.js";
import { createMemoryStore } from "../storage/memory-store.js";
import { messageSet, messageSetBytes, setBytes } from "../testing/schemas.js";
import { startRegistryServer, type RegistryServer } from "./registry-server.js";

const ADMIN = "admin-token-0123456789abcdef";
const WRITER = "write-token-0123456789abcdef";
const READER = "read-token-0123456789abcdef";
const S = "acme.orders.v1.OrderPlaced";

async function code(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const ce = ConnectError.from(err);
    return { code: ce.code, message: ce.rawMessage };
  }
  throw new Error("expected a failure");
}

async function postJson(server: RegistryServer, method: string, body: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/chronicle.registry.v1.RegistryService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("registry server (memory store, real HTTP)", () => {
  let server: RegistryServer;
  let admin: RegistryClient;
  let writer: RegistryClient;
  let reader: RegistryClient;

  beforeAll(async () => {
    server = await startRegistryServer({
      store: createMemoryStore(),
      auth: {
        tokens: [
          { name: "ops", role: "admin", token: ADMIN },
          { name: "ci", role: "write", token: WRITER },
          { name: "svc", role: "read", token: READER },
        ],
        anonymousRead: true,
      },
      maxSchemaBytes: 256 * 1024,
    });
    admin = createRegistryClient({ baseUrl: server.url, token: ADMIN });
    writer = createRegistryClient({ baseUrl: server.url, token: WRITER });
    reader = createRegistryClient({ baseUrl: server.url, token: READER });
  });
  afterAll(async () => {
    admin.close();
    writer.close();
    reader.close();
    await server.close();
  });

  it("registers, returns the same id and version for identical content, and reads it back every way", async () => {
    const v1 = messageSet(S, [{ name: "order_id", number: 1 }]);
    const r1 = await writer.register(S, v1);
    expect(r1).toMatchObject({ version: 1, created: true });
    expect(r1.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await writer.register(S, v1)).toEqual({ ...r1, created: false });

    const r2 = await writer.register(
      S,
      messageSet(S, [
        { name: "order_id", number: 1 },
        { name: "total_cents", number: 2, type: "int64" },
      ]),
    );
    expect(r2).toMatchObject({ version: 2, created: true });
    expect(r2.id).not.toBe(r1.id);

    expect((await reader.getVersion(S, 1)).id).toBe(r1.id);
    expect((await reader.getLatestVersion(S)).version).toBe(2);
    expect(await reader.listVersions(S)).toEqual([1, 2]);
    expect(await reader.listSubjects()).toContain(S);
    const bytes = await reader.getSchema(r1.id);
    expect(bytes).toEqual((await reader.getVersion(S, 1)).schema);

    // plain GET, the target of ce-dataschema
    const res = await fetch(`${server.url}/schemas/ids/${r1.id}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect((await fetch(`${server.url}/schemas/ids/sha256:${"0".repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${server.url}/schemas/ids/nope`)).status).toBe(400);
  });

  it("gives the same id whatever the file order or source info", async () => {
    const subject = "acme.ids.v1.Thing";
    const a = messageSet(subject, [{ name: "a", number: 1 }]);
    const other = messageSet("acme.other.v1.Other", [{ name: "x", number: 1 }]).file[0]!;
    const withInfo = messageSet(subject, [{ name: "a", number: 1 }]);
    withInfo.file[0]!.sourceCodeInfo = {
      $typeName: "google.protobuf.SourceCodeInfo",
      location: [
        {
          $typeName: "google.protobuf.SourceCodeInfo.Location",
          path: [4, 0],
          span: [3, 0, 5, 1],
          leadingComments: "hi",
          trailingComments: "",
          leadingDetachedComments: [],
        },
      ],
    };
    const check1 = await reader.checkCompatibility(subject, setBytes([a.file[0]!, other]));
    const check2 = await reader.checkCompatibility(subject, setBytes([other, a.file[0]!]));
    const check3 = await reader.checkCompatibility(subject, withInfo);
    expect(check1.id).toBe(check2.id);
    expect(check3.id).toBe((await reader.checkCompatibility(subject, a)).id);
  });

  it("refuses an incompatible version with failed_precondition and the full violation list, storing nothing", async () => {
    const subject = "acme.compat.v1.Changed";
    await writer.register(
      subject,
      messageSet(subject, [
        { name: "a", number: 1 },
        { name: "b", number: 2 },
      ]),
    );
    const bad = messageSet(subject, [{ name: "a", number: 1, type: "int64" }]);
    const err = await writer.register(subject, bad).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.FailedPrecondition);
    const violations = violationsOf(err)!;
    expect(violations.length).toBeGreaterThanOrEqual(2);
    expect(violations.map((v) => v.path)).toEqual(expect.arrayContaining([`${subject}.a`, `${subject}.b`]));
    expect(violations.every((v) => v.rule !== "" && v.againstVersion === 1)).toBe(true);
    // with source info in the proposed schema, a violation says where (file:line:column, 1-based; a type change points at the type)
    const located = messageSet(subject, [
      { name: "a", number: 1, type: "int64" },
      { name: "b", number: 2 },
    ]);
    located.file[0]!.sourceCodeInfo = create(SourceCodeInfoSchema, { location: [{ path: [4, 0, 2, 0, 5], span: [5, 2, 7] }] });
    const v = violationsOf(await writer.register(subject, located).catch((e: unknown) => e))!;
    expect(v.find((x) => x.path === `${subject}.a`)?.location).toEqual({ file: located.file[0]!.name, line: 6, column: 3 });
    expect(await reader.listVersions(subject)).toEqual([1]);

    const dry = await reader.checkCompatibility(subject, bad);
    expect(dry.compatible).toBe(false);
    expect(dry.violations.length).toBe(violations.length);
    expect(dry.checkedVersions).toEqual([1]);
    expect(dry.mode).toBe("FULL_TRANSITIVE");
    expect(dry.category).toBe("WIRE_JSON");

    // mode NONE for this subject lets it in; the global mode stays
    await admin.setConfig({ subject, mode: "NONE" });
    expect((await reader.getConfig(subject)).mode).toBe("NONE");
    expect((await reader.getConfig()).mode).toBe("FULL_TRANSITIVE");
    expect((await writer.register(subject, bad)).version).toBe(2);
    expect((await admin.setConfig({ subject, clear: true })).inherited).toBe(true);
  });

  it("sets modes and categories globally and per subject", async () => {
    const g = await admin.setConfig({ mode: "BACKWARD", category: "WIRE" });
    expect(g).toMatchObject({ mode: "BACKWARD", category: "WIRE", readOnly: false });
    expect(await reader.getConfig("acme.any.v1.Thing")).toMatchObject({ mode: "BACKWARD", category: "WIRE", inherited: true });
    await admin.setConfig({ subject: "acme.any.v1.Thing", category: "WIRE_JSON" });
    expect(await reader.getConfig("acme.any.v1.Thing")).toMatchObject({ mode: "BACKWARD", category: "WIRE_JSON", inherited: false });
    await admin.setConfig({ mode: "FULL_TRANSITIVE", category: "WIRE_JSON" });
    // unknown modes: by JSON name and by number
    const byName = await postJson(server, "SetConfig", { mode: "COMPATIBILITY_MODE_SIDEWAYS" }, ADMIN);
    expect(byName.status).toBe(400);
    expect(byName.json["code"]).toBe("invalid_argument");
    const byNumber = await postJson(server, "SetConfig", { mode: 42 }, ADMIN);
    expect(byNumber.json).toMatchObject({ code: "invalid_argument" });
    expect(String(byNumber.json["message"])).toMatch(/unknown compatibility mode 42/);
  });

  it("soft and hard deletes versions and subjects", async () => {
    const subject = "acme.del.v1.Gone";
    await writer.register(subject, messageSet(subject, [{ name: "a", number: 1 }]));
    await writer.register(
      subject,
      messageSet(subject, [
        { name: "a", number: 1 },
        { name: "b", number: 2 },
      ]),
    );
    const id1 = (await reader.getVersion(subject, 1)).id;
    expect((await code(admin.deleteVersion(subject, 1, { permanent: true }))).code).toBe(Code.FailedPrecondition);
    await admin.deleteVersion(subject, 1);
    expect(await reader.listVersions(subject)).toEqual([2]);
    expect(await reader.listVersions(subject, { includeDeleted: true })).toEqual([1, 2]);
    expect((await code(reader.getVersion(subject, 1))).code).toBe(Code.NotFound);
    expect((await reader.getVersion(subject, 1, { includeDeleted: true })).deleted).toBe(true);
    await admin.deleteVersion(subject, 1, { permanent: true });
    expect(await reader.listVersions(subject, { includeDeleted: true })).toEqual([2]);
    expect((await code(reader.getSchema(id1))).code).toBe(Code.NotFound);

    expect(await admin.deleteSubject(subject)).toEqual([2]);
    expect(await reader.listSubjects()).not.toContain(subject);
    expect(await reader.listSubjects({ includeDeleted: true })).toContain(subject);
    // versions are not reused after a soft delete
    expect((await writer.register(subject, messageSet(subject, [{ name: "z", number: 9 }]))).version).toBe(3);
    expect((await code(admin.deleteSubject(subject, { permanent: true }))).code).toBe(Code.FailedPrecondition);
    await admin.deleteSubject(subject);
    expect(await admin.deleteSubject(subject, { permanent: true })).toEqual([2, 3]);
    expect((await code(reader.listVersions(subject))).code).toBe(Code.NotFound);
    expect(await reader.listSubjects({ includeDeleted: true })).not.toContain(subject);
  });

  it("checks tokens and roles: unauthenticated, permission_denied, anonymous reads", async () => {
    const anon = createRegistryClient({ baseUrl: server.url });
    const wrong = createRegistryClient({ baseUrl: server.url, token: "not-a-valid-token-at-all" });
    try {
      expect(Array.isArray(await anon.listSubjects())).toBe(true);
      const a = await code(anon.register(S, messageSetBytes(S, [{ name: "order_id", number: 1 }])));
      expect(a.code).toBe(Code.Unauthenticated);
      const w = await code(wrong.listSubjects());
      expect(w.code).toBe(Code.Unauthenticated);
      expect(w.message).not.toContain("not-a-valid-token-at-all");
      const r = await code(reader.register(S, messageSetBytes(S, [{ name: "order_id", number: 1 }])));
      expect(r.code).toBe(Code.PermissionDenied);
      expect(r.message).not.toContain(READER);
      expect((await code(writer.setConfig({ mode: "NONE" }))).code).toBe(Code.PermissionDenied);
      expect((await code(writer.deleteSubject(S))).code).toBe(Code.PermissionDenied);
      const malformed = await postJson(server, "ListSubjects", {}, "");
      expect(malformed.status).toBe(200);
    } finally {
      anon.close();
      wrong.close();
    }
  });

  describe("bad input through HTTP: each refused with a reason, nothing stored", () => {
    const subject = "acme.bad.v1.Input";
    const cases: Array<[string, () => Promise<unknown>, Code, RegExp]> = [
      ["garbage bytes", () => writer.register(subject, randomBytes(512)), Code.InvalidArgument, /FileDescriptorSet|not a message|file descriptor/],
      ["empty schema", () => writer.register(subject, new Uint8Array()), Code.InvalidArgument, /schema is required/],
      [
        "unresolved import",
        () => writer.register(subject, messageSetBytes(subject, [{ name: "a", number: 1 }], { dependency: ["acme/missing.proto"] })),
        Code.InvalidArgument,
        /missing\.proto/,
      ],
      [
        "duplicate files",
        () => {
          const f = messageSet(subject, [{ name: "a", number: 1 }]).file[0]!;
          return writer.register(subject, setBytes([f, f]));
        },
        Code.InvalidArgument,
        /duplicate/i,
      ],
      [
        "subject not in the set",
        () => writer.register("acme.bad.v1.Other", messageSetBytes(subject, [{ name: "a", number: 1 }])),
        Code.InvalidArgument,
        /not a message declared/,
      ],
      [
        "invalid subject name",
        () => writer.register("acme..bad", messageSetBytes(subject, [{ name: "a", number: 1 }])),
        Code.InvalidArgument,
        /not a valid subject name/,
      ],
      ["empty subject", () => writer.register("", messageSetBytes(subject, [{ name: "a", number: 1 }])), Code.InvalidArgument, /subject is required/],
      [
        "oversized schema",
        () => writer.register(subject, messageSetBytes(subject, [{ name: "a".repeat(140 * 1024), number: 1 }])),
        Code.InvalidArgument,
        /limit is 262144 bytes/,
      ],
      [
        "oversized request",
        async () => {
          // over HTTP/2 the client reads the early answer; over HTTP/1.1 the server ends the upload and the client sees aborted
          const h2 = createRegistryClient({ baseUrl: server.url, token: WRITER, httpVersion: "2" });
          try {
            return await h2.register(subject, messageSetBytes(subject, [{ name: "a".repeat(400 * 1024), number: 1 }]));
          } finally {
            h2.close();
          }
        },
        Code.ResourceExhausted,
        /.+/,
      ],
      ["bad schema id", () => reader.getSchema("md5:abc"), Code.InvalidArgument, /sha256/],
      ["unknown schema id", () => reader.getSchema(`sha256:${"a".repeat(64)}`), Code.NotFound, /not found/],
      ["unknown subject", () => reader.getLatestVersion("acme.nope.v1.Nope"), Code.NotFound, /not found/],
      ["version 0", () => reader.getVersion(S, 0), Code.InvalidArgument, /version must be 1/],
      ["unknown version", () => reader.getVersion(S, 999), Code.NotFound, /not found/],
      ["clear of the global config", () => admin.setConfig({ clear: true }), Code.InvalidArgument, /cannot be cleared/],
    ];
    for (const [name, call, expected, reason] of cases) {
      it(name, async () => {
        const got = await code(call());
        expect(Code[got.code]).toBe(Code[expected]);
        expect(got.message).toMatch(reason);
      });
    }
    it("stored nothing for the refused requests", async () => {
      expect(await reader.listSubjects({ includeDeleted: true })).not.toContain(subject);
    });
    it("answers malformed JSON with invalid_argument", async () => {
      const r = await postJson(server, "Register", "{not json", WRITER);
      expect(r.status).toBe(400);
      expect(r.json["code"]).toBe("invalid_argument");
      const b = await postJson(server, "Register", { subject, schema: "%%%not base64%%%" }, WRITER);
      expect(b.json["code"]).toBe("invalid_argument");
    });
  });

  it("answers Connect JSON, gRPC and gRPC-Web on one port", async () => {
    const json = await postJson(server, "ListSubjects", {});
    expect(json.status).toBe(200);
    expect(json.json["subjects"]).toContain(S);
    for (const protocol of ["grpc", "grpc-web"] as const) {
      const c = createRegistryClient({ baseUrl: server.url, token: READER, protocol });
      try {
        expect(await c.listSubjects()).toContain(S);
        expect((await code(c.getLatestVersion("acme.nope.v1.Nope"))).code).toBe(Code.NotFound);
      } finally {
        c.close();
      }
    }
    const h2 = createRegistryClient({ baseUrl: server.url, token: READER, httpVersion: "2" });
    try {
      expect(await h2.listSubjects()).toContain(S);
      // the reads the fast path answers, over HTTP/2 too
      const latest = await h2.getLatestVersion(S);
      expect((await h2.getVersion(S, latest.version)).id).toBe(latest.id);
      expect(await h2.getSchema(latest.id)).toEqual(latest.schema);
    } finally {
      h2.close();
    }
  });
});

describe("read-only registry", () => {
  it("refuses writes with failed_precondition and serves reads", async () => {
    const store = createMemoryStore();
    {
      await using rw = await startRegistryServer({ store, auth: { tokens: [], anonymousAdmin: true } });
      const c = createRegistryClient({ baseUrl: rw.url });
      await c.register(S, messageSet(S, [{ name: "order_id", number: 1 }]));
      // the stored read-only mode
      await c.setConfig({ readOnly: true });
      expect(
        (
          await code(
            c.register(
              S,
              messageSet(S, [
                { name: "order_id", number: 1 },
                { name: "x", number: 2 },
              ]),
            ),
          )
        ).code,
      ).toBe(Code.FailedPrecondition);
      await c.setConfig({ readOnly: false });
      c.close();
    }
    await using ro = await startRegistryServer({ store, readOnly: true, auth: { tokens: [], anonymousAdmin: true } });
    const c = createRegistryClient({ baseUrl: ro.url });
    try {
      expect((await c.getConfig()).readOnly).toBe(true);
      expect(await c.listVersions(S)).toEqual([1]);
      const r = await code(
        c.register(
          S,
          messageSet(S, [
            { name: "order_id", number: 1 },
            { name: "x", number: 2 },
          ]),
        ),
      );
      expect(r.code).toBe(Code.FailedPrecondition);
      expect(r.message).toMatch(/read-only/);
      expect((await code(c.setConfig({ mode: "NONE" }))).code).toBe(Code.FailedPrecondition);
      expect((await code(c.deleteSubject(S))).code).toBe(Code.FailedPrecondition);
    } finally {
      c.close();
    }
  });
});

describe("TLS", () => {
  it("serves Connect over HTTPS (HTTP/1.1 and HTTP/2) and gRPC with a certificate", async (ctx) => {
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "chronicle-tls-"));
    try {
      try {
        execFileSync(
          "openssl",
          [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            join(dir, "key.pem"),
            "-out",
            join(dir, "cert.pem"),
          ],
          { stdio: "ignore" },
        );
      } catch {
        ctx.skip("openssl is not available to make a test certificate");
      }
      await using server = await startRegistryServer({
        store: createMemoryStore(),
        auth: { tokens: [], anonymousAdmin: true },
        tls: { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") },
      });
      expect(server.url).toMatch(/^https:/);
      const ca = readFileSync(join(dir, "cert.pem"), "utf8");
      for (const opts of [{}, { httpVersion: "2" as const }, { protocol: "grpc" as const }]) {
        const c = createRegistryClient({ baseUrl: server.url, ca, ...opts });
        try {
          expect((await c.register(S, messageSet(S, [{ name: "order_id", number: 1 }]))).version).toBe(1);
        } finally {
          c.close();
        }
      }
      const untrusted = createRegistryClient({ baseUrl: server.url });
      // refused by the client (connect-node reports a certificate failure as internal)
      expect((await code(untrusted.listSubjects())).message).toMatch(/certificate/i);
      untrusted.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("request bodies that do not parse (real HTTP)", () => {
  const R = "/chronicle.registry.v1.RegistryService";
  // Each fails protobuf binary parsing as a GetSchemaRequest and as a RegisterRequest.
  const garbage: Array<[string, Uint8Array]> = [
    ["an illegal wire type", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3)],
    ["a truncated varint", Uint8Array.of(0x08, 0xff)],
    ["a length past the end", Uint8Array.of(0x0a, 0x7f, 0x61)],
    ["an end-group tag without a start", Uint8Array.of(0x0c)],
  ];
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startRegistryServer({
      store: createMemoryStore(),
      auth: { tokens: [{ name: "ci", role: "write", token: WRITER }], anonymousRead: true },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const post = async (rpc: string, contentType: string, body: Uint8Array, header: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${R}/${rpc}`, {
      method: "POST",
      headers: { "content-type": contentType, authorization: `Bearer ${WRITER}`, ...header },
      body,
    });
    return { status: res.status, contentType: res.headers.get("content-type"), bytes: new Uint8Array(await res.arrayBuffer()) };
  };
  const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as { code: string; message: string };

  for (const [what, body] of garbage) {
    it(`answers a Connect binary body with ${what} with invalid_argument (HTTP 400) naming the request type`, async () => {
      for (const [rpc, type] of [
        ["Register", "RegisterRequest"],
        ["GetSchema", "GetSchemaRequest"],
      ] as const) {
        const res = await post(rpc, "application/proto", body);
        expect(res.status, rpc).toBe(400);
        expect(res.contentType).toBe("application/json");
        const error = json(res.bytes);
        expect(error.code).toBe("invalid_argument");
        expect(error.message).toMatch(new RegExp(`^request body is not a valid chronicle\\.registry\\.v1\\.${type}: \\S`));
      }
    });
  }

  it("says what was wrong with the bytes", async () => {
    const error = json((await post("GetSchema", "application/proto", garbage[0]![1])).bytes);
    // connect-es's own words follow the request type
    expect(error.message).toBe("request body is not a valid chronicle.registry.v1.GetSchemaRequest: parse binary: illegal tag: field no 536870911 wire type 7");
  });

  it("answers a gzip-compressed body that does not parse, and a Connect GET whose message does not parse, with invalid_argument", async () => {
    const gz = await post("GetSchema", "application/proto", gzipSync(garbage[0]![1]), { "content-encoding": "gzip" });
    expect(gz.status).toBe(400);
    expect(json(gz.bytes).message).toMatch(/^request body is not a valid chronicle\.registry\.v1\.GetSchemaRequest: /);
    const message = Buffer.from(garbage[1]![1]).toString("base64url");
    const get = await fetch(`${server.url}${R}/GetSchema?connect=v1&encoding=proto&base64=1&message=${message}`);
    expect(get.status).toBe(400);
    const error = (await get.json()) as { code: string; message: string };
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toMatch(/^request message is not a valid chronicle\.registry\.v1\.GetSchemaRequest: /);
  });

  it("answers gRPC and gRPC-Web requests that do not parse with status 3 (invalid_argument)", async () => {
    const frame = (b: Uint8Array) => Buffer.concat([Buffer.of(0, 0, 0, 0, b.length), b]);
    const grpc = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const session = http2.connect(server.url);
      session.on("error", reject);
      const req = session.request({ ":method": "POST", ":path": `${R}/GetSchema`, "content-type": "application/grpc", te: "trailers" });
      req.on("trailers", (t) => resolve(t));
      req.on("error", reject);
      req.on("close", () => session.close());
      req.resume();
      req.end(frame(garbage[0]![1]));
    });
    expect(grpc["grpc-status"]).toBe("3");
    expect(decodeURIComponent(String(grpc["grpc-message"]))).toMatch(
      /^request body is not a valid chronicle\.registry\.v1\.GetSchemaRequest: parse binary: illegal tag/,
    );

    const web = await post("GetSchema", "application/grpc-web+proto", frame(garbage[0]![1]));
    expect(web.status).toBe(200);
    // the body is one trailer frame: flag 0x80, length, "key: value" lines
    expect(web.bytes[0]).toBe(0x80);
    const trailer = new TextDecoder().decode(web.bytes.subarray(5));
    expect(trailer).toMatch(/grpc-status: 3\r\n/);
    expect(decodeURIComponent(/grpc-message: (.*)\r\n/.exec(trailer)![1]!)).toMatch(/^request body is not a valid chronicle\.registry\.v1\.GetSchemaRequest: /);
  });

  it("answers JSON bodies that do not parse with invalid_argument (HTTP 400) naming the request type", async () => {
    const bodies = ["{not json", "[]", '{"subject": 5}', '{"nope": 1}', '{"schema": "%%%"}', "\u00ff\u00fe"];
    for (const body of bodies) {
      const res = await post("Register", "application/json", new TextEncoder().encode(body));
      expect(res.status, body).toBe(400);
      const error = json(res.bytes);
      expect(error.code).toBe("invalid_argument");
      expect(error.message, body).toMatch(/chronicle\.registry\.v1\.RegisterRequest/);
    }
  });

  it("still serves well-formed binary requests", async () => {
    const res = await post(
      "GetSchema",
      "application/proto",
      toBinary(GetSchemaRequestSchema, create(GetSchemaRequestSchema, { id: `sha256:${"a".repeat(64)}` })),
    );
    expect(res.status).toBe(404);
    expect(json(res.bytes).code).toBe("not_found");
    expect((await post("ListSubjects", "application/proto", new Uint8Array())).status).toBe(200);
  });

  it("does not rewrite an internal error of the service itself, even one worded like a parse failure", async () => {
    const store = createMemoryStore();
    await using failing = await startRegistryServer({
      store: {
        ...store,
        createIfAbsent: () => Promise.reject(new ConnectError("parse binary: a store failure", Code.Internal)),
      },
      auth: { tokens: [], anonymousAdmin: true },
    });
    const res = await fetch(`${failing.url}${R}/Register`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: toBinary(RegisterRequestSchema, create(RegisterRequestSchema, { subject: S, schema: messageSetBytes(S, [{ name: "order_id", number: 1 }]) })),
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: "internal", message: "parse binary: a store failure" });
  });
});

describe("content-addressed reads over plain HTTP", () => {
  let server: RegistryServer;
  let id: string;
  let bytes: Uint8Array;
  beforeAll(async () => {
    server = await startRegistryServer({
      store: createMemoryStore(),
      auth: { tokens: [{ name: "ci", role: "write", token: WRITER }], anonymousRead: true },
    });
    const c = createRegistryClient({ baseUrl: server.url, token: WRITER });
    id = (await c.register(S, messageSet(S, [{ name: "order_id", number: 1 }]))).id;
    bytes = await c.getSchema(id);
    c.close();
  });
  afterAll(async () => {
    await server.close();
  });

  it("answers a schema id that is not valid percent-encoding with 400 invalid_argument, not 500", async () => {
    for (const bad of ["%ZZ", "%", "sha256%3", "%E0%A4%A"]) {
      const res = await fetch(`${server.url}/schemas/ids/${bad}`);
      expect(res.status, bad).toBe(400);
      const error = (await res.json()) as { code: string; message: string };
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toMatch(/not valid percent-encoding/);
    }
    // a percent-encoded valid id is the id
    expect((await fetch(`${server.url}/schemas/ids/${encodeURIComponent(id)}`)).status).toBe(200);
  });

  it("caches a schema forever: Cache-Control immutable, the id as ETag, 304 for If-None-Match", async () => {
    const res = await fetch(`${server.url}/schemas/ids/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("etag")).toBe(`"${id}"`);
    expect(res.headers.get("content-type")).toBe("application/x-protobuf; messageType=google.protobuf.FileDescriptorSet");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    for (const tag of [`"${id}"`, `W/"${id}"`, `"other", "${id}"`, "*"]) {
      const again = await fetch(`${server.url}/schemas/ids/${id}`, { headers: { "if-none-match": tag } });
      expect(again.status, tag).toBe(304);
      expect(again.headers.get("etag")).toBe(`"${id}"`);
      expect((await again.arrayBuffer()).byteLength).toBe(0);
    }
    expect((await fetch(`${server.url}/schemas/ids/${id}`, { headers: { "if-none-match": '"sha256:other"' } })).status).toBe(200);
  });

  it("answers HEAD like GET without the body", async () => {
    const get = await fetch(`${server.url}/schemas/ids/${id}`);
    await get.arrayBuffer();
    const head = await fetch(`${server.url}/schemas/ids/${id}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    for (const h of ["content-type", "content-length", "cache-control", "etag"]) expect(head.headers.get(h), h).toBe(get.headers.get(h));
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const missing = await fetch(`${server.url}/schemas/ids/sha256:${"0".repeat(64)}`, { method: "HEAD" });
    expect(missing.status).toBe(404);
    expect((await missing.arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(`${server.url}/schemas/ids/nope`, { method: "HEAD" })).status).toBe(400);
    expect((await fetch(`${server.url}/healthz`, { method: "HEAD" })).status).toBe(200);
  });

  it("marks a GetSchema sent as a Connect GET as cacheable forever too", async () => {
    const message = Buffer.from(toBinary(GetSchemaRequestSchema, create(GetSchemaRequestSchema, { id }))).toString("base64url");
    const res = await fetch(`${server.url}/chronicle.registry.v1.RegistryService/GetSchema?connect=v1&encoding=proto&base64=1&message=${message}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("etag")).toBe(`"${id}"`);
  });

  it("keeps schemas out of shared caches when reads need a token", async () => {
    await using closed = await startRegistryServer({ store: createMemoryStore(), auth: { tokens: [{ name: "ci", role: "write", token: WRITER }] } });
    const c = createRegistryClient({ baseUrl: closed.url, token: WRITER });
    const own = (await c.register(S, messageSet(S, [{ name: "order_id", number: 1 }]))).id;
    c.close();
    expect((await fetch(`${closed.url}/schemas/ids/${own}`)).status).toBe(401);
    expect((await fetch(`${closed.url}/schemas/ids/${own}`, { method: "HEAD" })).status).toBe(401);
    const res = await fetch(`${closed.url}/schemas/ids/${own}`, { headers: { authorization: `Bearer ${WRITER}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
  });
});

describe("one schema size limit, on the decoded schema, whatever the request's encoding", () => {
  // the limit a 1 MiB max_payload (nats-server's default) leaves: 1 MiB - 8 KiB
  const LIMIT = 1_040_384;
  const subject = "acme.big.v1.Big";
  // a set of `size` bytes: one message whose file carries a java_package of the right length
  const setOfSize = (size: number) => {
    const build = (n: number) => messageSetBytes(subject, [{ name: "id", number: 1 }], { javaPackage: "x".repeat(n) });
    let padding = size;
    // length prefixes grow with the padding: converge in a few steps
    for (let i = 0; i < 5 && build(padding).length !== size; i++) padding += size - build(padding).length;
    return build(padding);
  };
  let server: RegistryServer;
  beforeAll(async () => {
    server = await startRegistryServer({ store: createMemoryStore(), auth: { tokens: [], anonymousAdmin: true }, maxSchemaBytes: LIMIT });
  });
  afterAll(async () => {
    await server.close();
  });
  const register = async (schema: Uint8Array, encoding: "json" | "proto") => {
    const body =
      encoding === "json"
        ? JSON.stringify({ subject, schema: Buffer.from(schema).toString("base64") })
        : toBinary(RegisterRequestSchema, create(RegisterRequestSchema, { subject, schema }));
    const res = await fetch(`${server.url}/chronicle.registry.v1.RegistryService/Register`, {
      method: "POST",
      headers: { "content-type": `application/${encoding}` },
      body,
    });
    const answer = new Uint8Array(await res.arrayBuffer());
    const parsed: { code?: string; message?: string; version?: number } =
      res.status === 200 && encoding === "proto"
        ? { version: fromBinary(RegisterResponseSchema, answer).version }
        : (JSON.parse(new TextDecoder().decode(answer)) as { code?: string; message?: string; version?: number });
    return { status: res.status, body: parsed };
  };

  it("says what the limits are", () => {
    expect(server.maxSchemaBytes).toBe(LIMIT);
    // room for the largest schema as base64 JSON, plus 64 KiB
    expect(server.maxRequestBytes).toBe(4 * Math.ceil(LIMIT / 3) + 64 * 1024);
  });

  it("accepts a 973 KB set as Connect JSON (base64) and as binary", async () => {
    const set = setOfSize(973 * 1024);
    expect(set.length).toBe(973 * 1024);
    const json = await register(set, "json");
    expect(json.status, JSON.stringify(json.body)).toBe(200);
    expect(json.body.version).toBe(1);
    const proto = await register(set, "proto");
    expect(proto.status).toBe(200);
  });

  it("refuses a set one byte over the limit the same way in both encodings", async () => {
    const set = setOfSize(LIMIT + 1);
    for (const encoding of ["json", "proto"] as const) {
      const r = await register(set, encoding);
      expect(r.status, encoding).toBe(400);
      expect(r.body).toEqual({ code: "invalid_argument", message: `schema is ${LIMIT + 1} bytes; the limit is ${LIMIT} bytes` });
    }
  });

  it("refuses a request over the request limit with resource_exhausted", async () => {
    const r = await register(setOfSize(server.maxRequestBytes + 1), "proto");
    expect(r.status).toBe(429);
    expect(r.body.code).toBe("resource_exhausted");
  });
});

describe("the fast path for reads answers exactly as connect-es does", () => {
  const R = "/chronicle.registry.v1.RegistryService";
  let fast: RegistryServer;
  let plain: RegistryServer;
  let id: string;
  beforeAll(async () => {
    const store = createMemoryStore();
    const auth = {
      tokens: [
        { name: "ci", role: "write" as const, token: WRITER },
        { name: "svc", role: "read" as const, token: READER },
      ],
    };
    fast = await startRegistryServer({ store, auth });
    plain = await startRegistryServer({ store, auth, fastReads: false });
    const c = createRegistryClient({ baseUrl: fast.url, token: WRITER });
    id = (await c.register(S, messageSet(S, [{ name: "order_id", number: 1 }]))).id;
    c.close();
  });
  afterAll(async () => {
    await fast.close();
    await plain.close();
  });

  const bin = (schema: Parameters<typeof toBinary>[0], init: Record<string, unknown>) => toBinary(schema, create(schema, init as never));
  const text = (s: string) => new TextEncoder().encode(s);
  const cases: Array<[string, string, Record<string, string>, Uint8Array]> = [
    ["GetVersion binary", "GetVersion", { "content-type": "application/proto" }, bin(GetVersionRequestSchema, { subject: S, version: 1 })],
    ["GetVersion JSON", "GetVersion", { "content-type": "application/json" }, text(`{"subject":"${S}","version":1}`)],
    ["GetVersion JSON with charset", "GetVersion", { "content-type": "application/json; charset=utf-8" }, text(`{"subject":"${S}","version":1}`)],
    ["GetLatestVersion", "GetLatestVersion", { "content-type": "application/proto" }, bin(GetLatestVersionRequestSchema, { subject: S })],
    ["GetSchema", "GetSchema", { "content-type": "application/proto" }, bin(GetSchemaRequestSchema, { id: `sha256:${"a".repeat(64)}` })],
    ["unknown subject", "GetLatestVersion", { "content-type": "application/json" }, text('{"subject":"acme.nope.v1.Nope"}')],
    ["version 0", "GetVersion", { "content-type": "application/json" }, text(`{"subject":"${S}","version":0}`)],
    ["malformed id", "GetSchema", { "content-type": "application/json" }, text('{"id":"md5:1"}')],
    ["unknown JSON field", "GetSchema", { "content-type": "application/json" }, text('{"nope":1}')],
    ["JSON that does not parse", "GetSchema", { "content-type": "application/json" }, text("{not json")],
    ["binary that does not parse", "GetSchema", { "content-type": "application/proto" }, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)],
    [
      "a token that is not valid",
      "GetLatestVersion",
      { "content-type": "application/proto", authorization: "Bearer not-a-valid-token-at-all" },
      bin(GetLatestVersionRequestSchema, { subject: S }),
    ],
    [
      "a malformed timeout",
      "GetLatestVersion",
      { "content-type": "application/proto", "connect-timeout-ms": "soon" },
      bin(GetLatestVersionRequestSchema, { subject: S }),
    ],
    [
      "another protocol version",
      "GetLatestVersion",
      { "content-type": "application/proto", "connect-protocol-version": "2" },
      bin(GetLatestVersionRequestSchema, { subject: S }),
    ],
    [
      "a gzip body",
      "GetLatestVersion",
      { "content-type": "application/proto", "content-encoding": "gzip" },
      gzipSync(bin(GetLatestVersionRequestSchema, { subject: S })),
    ],
    ["a body over 16 KiB", "GetSchema", { "content-type": "application/json" }, text(`{"id":"${"a".repeat(20_000)}"}`)],
  ];
  for (const [what, rpc, headers, body] of cases) {
    it(what, async () => {
      const answers = await Promise.all(
        [fast, plain].map(async (server) => {
          const res = await fetch(`${server.url}${R}/${rpc}`, { method: "POST", headers: { authorization: `Bearer ${READER}`, ...headers }, body });
          return { status: res.status, type: res.headers.get("content-type"), body: Buffer.from(await res.arrayBuffer()).toString("hex") };
        }),
      );
      expect(answers[0]).toEqual(answers[1]);
    });
  }

  it("answers a read of a registered schema with its bytes on both paths", async () => {
    const body = bin(GetSchemaRequestSchema, { id });
    const [a, b] = await Promise.all(
      [fast, plain].map(async (server) => {
        const res = await fetch(`${server.url}${R}/GetSchema`, {
          method: "POST",
          headers: { "content-type": "application/proto", authorization: `Bearer ${READER}` },
          body,
        });
        return fromBinary(GetSchemaResponseSchema, new Uint8Array(await res.arrayBuffer()));
      }),
    );
    expect(a!.schema.length).toBeGreaterThan(0);
    expect(a).toEqual(b);
  });
});
