// Issue #10, scenario 4: hostile input. Property-based (fast-check): random
// keys, dedup keys and headers into the producer; random payload bytes and
// headers straight into a consumer group's stream; oversized events; garbage
// and oversized requests to the registry over HTTP.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { createMemoryStore, startRegistryServer, type RegistryServer } from "@chronicle/registry";
import {
  connect,
  createProducer,
  DeadLetterHeaders,
  ensureStream,
  isChronicleError,
  keyToken,
  lag,
  partitionOf,
  startConsumerGroup,
  type ChronicleConnection,
} from "@chronicle/runtime";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { messageSet } from "../../registry/src/testing/schemas.js";
import { noteStream, scaled, waitFor } from "./helpers.js";

const RUNS = scaled(200, 2000);
let server: LocalServer;
let conn: ChronicleConnection;

beforeAll(async () => {
  server = await startLocalServer({ maxPayload: 64 * 1024 });
  conn = await connect({ servers: server.url });
});
afterAll(async () => {
  await conn?.close();
  await server?.stop();
});

/** Keys of every shape: subject metacharacters, white space, CR/LF, unicode, empty, very long. */
const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(".", "*", ">", " ", "\r", "\n", "\t", "\0", "~", "=", "a", "é", "\u{1F600}"), maxLength: 20 }),
  fc.string({ unit: "grapheme", minLength: 90, maxLength: 300 }),
);

describe("hostile input", () => {
  it(
    `producer: ${RUNS} random keys are stored in their partition under one safe token and reach the handler verbatim; bad dedup keys and headers are clear errors`,
    {
      timeout: scaled(120_000, 600_000),
    },
    async () => {
      const def = noteStream("keys", 8);
      await ensureStream(conn, def);
      const producer = createProducer(conn, def);
      const sent = new Map<string, string>(); // value -> key
      const usedDedupKeys = new Set<string>();
      let i = 0;
      await fc.assert(
        fc.asyncProperty(
          hostileString,
          fc.option(hostileString, { freq: 3 }),
          fc.option(fc.dictionary(hostileString, hostileString, { maxKeys: 3 }), { freq: 3 }),
          async (key, dedupKey, headers) => {
            // The key comes from the event (`<key>:<n>` splits at the first ':'), so keys with ':' are not representable here.
            const k = key.replaceAll(":", "_");
            const value = `${k}:${i++}`;
            const token = keyToken(k);
            expect(token).toMatch(/^[A-Za-z0-9_~=-][A-Za-z0-9_-]*$/);
            try {
              const d = dedupKey ?? `d${i}`;
              const r = await producer.publish("Note", { value }, { dedupKey: d, ...(headers !== null ? { headers } : {}) });
              expect(r.partition).toBe(partitionOf(k, 8));
              // a random dedup key may repeat one used before: then nothing new is stored, as promised
              if (r.duplicate) expect(usedDedupKeys.has(d), `duplicate without an earlier use of ${JSON.stringify(d)}`).toBe(true);
              else sent.set(value, k);
              usedDedupKeys.add(d);
            } catch (err) {
              // a clear error, never a crash or a generic one
              expect(isChronicleError(err), String(err)).toBe(true);
              expect((err as { code: string }).code).toBe("invalid_argument");
              expect(dedupKey !== null || headers !== null, `refused with only a key: ${String(err)}`).toBe(true);
            }
          },
        ),
        { numRuns: RUNS },
      );
      await producer.close();
      expect(sent.size).toBeGreaterThan(RUNS / 4);
      const received = new Map<string, string>();
      await using member = await startConsumerGroup(conn, def, {
        group: "g",
        onError: () => undefined,
        handlers: { Note: async (e, ctx) => void received.set(e.value, ctx.key) },
      });
      const all = await waitFor(() => received.size >= sent.size, scaled(30_000, 180_000));
      if (!all) {
        const missing = [...sent.entries()].filter(([v]) => !received.has(v)).slice(0, 10);
        const dlq = (await conn.jsm.streams.info("keys_dlq")).state.messages;
        console.log(`hostile keys not handled: ${JSON.stringify(missing)}; dead letters: ${dlq}; lag: ${JSON.stringify(await lag(conn, "keys", "g"))}`);
      }
      expect(all, `received ${received.size} of ${sent.size}`).toBe(true);
      // every key reaches the handler verbatim, including those with CR, LF or edge white space,
      // which travel percent-encoded (`chronicle-partitionkey-encoding: uri`)
      for (const [value, key] of sent) expect(received.get(value), `key of ${JSON.stringify(value)}`).toBe(key);
      console.log(`hostile keys: published=${sent.size} refused=${RUNS - sent.size}`);
      void member;
    },
  );

  it(
    `consumer: ${RUNS} random payloads and headers published straight to the stream are handled or dead-lettered, never crash a member`,
    { timeout: scaled(120_000, 600_000) },
    async () => {
      const def = noteStream("garbage", 4);
      await ensureStream(conn, def);
      const handled = new Set<number>();
      const errors: unknown[] = [];
      await using member = await startConsumerGroup(conn, def, {
        group: "g",
        retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
        onError: (err) => void errors.push(err),
        handlers: { Note: async (_e, ctx) => void handled.add(ctx.sequence) },
      });
      const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
      const headerValue = fc.string({ unit: fc.constantFrom("a", "1", " ", ":", "é", "%", "~"), maxLength: 30 });
      const sequences: number[] = [];
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 512 }),
          fc.dictionary(
            fc.oneof(headerName, fc.constantFrom("ce-type", "ce-id", "ce-partitionkey", "ce-time", "content-type", "ce-specversion")),
            headerValue,
            {
              maxKeys: 6,
            },
          ),
          fc.constantFrom("Note", "Other", "x"),
          fc.stringMatching(/^[A-Za-z0-9_~=-]{1,12}$/),
          async (data, hdrs, eventName, token) => {
            const h = natsHeaders();
            for (const [k, v] of Object.entries(hdrs)) h.set(k, v.trim());
            const ack = await conn.js.publish(`garbage.${eventName}.${token}`, data, { headers: h });
            sequences.push(ack.seq);
          },
        ),
        { numRuns: RUNS },
      );
      // nothing is left unacknowledged: each one was handled, skipped or dead-lettered
      const drained = await waitFor(async () => (await lag(conn, "garbage", "g"))[0]?.lag === 0, 60_000, 250);
      expect(drained).toBe(true);
      const dlq = await conn.jsm.streams.info("garbage_dlq");
      const deadLettered = new Map<number, string>();
      if (dlq.state.messages > 0) {
        const it = await (await conn.js.consumers.get("garbage_dlq")).consume();
        for await (const m of it) {
          deadLettered.set(Number(m.headers?.get(DeadLetterHeaders.Sequence)), m.headers?.get(DeadLetterHeaders.Reason) ?? "");
          if (m.info.pending === 0) break;
        }
        await it.close();
      }
      const both = sequences.filter((s) => handled.has(s) && deadLettered.has(s));
      expect(both).toEqual([]);
      // the member is alive and still handles a good event
      const producer = createProducer(conn, def);
      const good = await producer.publish("Note", { value: "good:1" });
      await producer.close();
      expect(await waitFor(() => handled.has(good.sequence), 20_000)).toBe(true);
      console.log(
        `garbage into consumer: published=${sequences.length} handled=${sequences.filter((s) => handled.has(s)).length} deadLettered=${deadLettered.size} ` +
          `reasons=${JSON.stringify([...new Set(deadLettered.values())])} reportedErrors=${errors.length}`,
      );
      void member;
    },
  );

  it("an oversized event is refused with payload_too_large and the producer keeps working", async () => {
    const def = noteStream("big", 2);
    await ensureStream(conn, def);
    const producer = createProducer(conn, def);
    const err = await producer.publish("Note", { value: `k:${"x".repeat(70 * 1024)}` }).catch((e: unknown) => e);
    expect(isChronicleError(err), String(err)).toBe(true);
    expect((err as { code: string }).code).toBe("payload_too_large");
    expect((err as { context: { maxPayload?: number } }).context.maxPayload).toBe(64 * 1024);
    const ok = await producer.publish("Note", { value: "k:small" });
    expect(ok.sequence).toBe(1);
    await producer.close();
  });
});

describe("hostile requests to the registry over HTTP", () => {
  let registry: RegistryServer;
  const TOKEN = "admin-token-0123456789abcdef";
  beforeAll(async () => {
    registry = await startRegistryServer({
      store: createMemoryStore(),
      maxSchemaBytes: 256 * 1024,
      auth: { tokens: [{ name: "ops", role: "admin", token: TOKEN }] },
    });
  });
  afterAll(async () => {
    await registry?.close();
  });
  const rpcs = [
    "Register",
    "GetSchema",
    "GetVersion",
    "GetLatestVersion",
    "ListSubjects",
    "ListVersions",
    "CheckCompatibility",
    "GetConfig",
    "SetConfig",
    "DeleteVersion",
    "DeleteSubject",
    "Nope",
  ];

  it(`${RUNS} garbage requests: each a 4xx with a Connect error code, never a 5xx; the server keeps serving`, { timeout: 120_000 }, async () => {
    const statuses = new Map<number, number>();
    let unparsable = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...rpcs),
        fc.constantFrom("application/json", "application/proto", "text/plain", "application/grpc", "application/connect+json"),
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.json().map((j) => new TextEncoder().encode(j)),
          fc.record({ subject: fc.string(), schema: fc.base64String(), version: fc.integer() }).map((o) => new TextEncoder().encode(JSON.stringify(o))),
        ),
        async (rpc, contentType, body) => {
          const res = await fetch(`${registry.url}/chronicle.registry.v1.RegistryService/${rpc}`, {
            method: "POST",
            headers: { "content-type": contentType, authorization: `Bearer ${TOKEN}` },
            body,
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${rpc} ${contentType}: ${text.slice(0, 200)}`).toBeLessThan(500);
          if (rpc === "Nope") expect(res.status).toBe(404);
          else if (res.status >= 400 && contentType === "application/json") expect(JSON.parse(text)).toHaveProperty("code");
          // a binary body that does not parse is the caller's mistake (it was `internal`, HTTP 500, before the fix)
          if (res.status === 400 && contentType === "application/proto") {
            const error = JSON.parse(text) as { code: string; message: string };
            expect(error.code).toBe("invalid_argument");
            if (/^request body is not a valid chronicle\.registry\.v1\.\w+Request: ./.test(error.message)) unparsable++;
          }
        },
      ),
      { numRuns: RUNS },
    );
    console.log(`registry garbage: statuses=${JSON.stringify([...statuses].sort())} unparsableBinary400=${unparsable}`);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    expect(unparsable).toBeGreaterThan(0);
    expect((await fetch(`${registry.url}/healthz`)).status).toBe(200);
  });

  it("a request without a Host header (HTTP/1.0) is refused with 400, and the server keeps serving", async () => {
    const { connect: tcp } = await import("node:net");
    const port = Number(new URL(registry.url).port);
    for (const rpc of ["ListSubjects", "GetSchema", "Nope"]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tcp(port, "127.0.0.1", () =>
          socket.write(`POST /chronicle.registry.v1.RegistryService/${rpc} HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`),
        );
        let text = "";
        socket.setTimeout(5000, () => socket.destroy());
        socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
        socket.on("close", () => resolve(text));
        socket.on("error", reject);
      });
      expect(answer, rpc).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect((await fetch(`${registry.url}/healthz`)).status).toBe(200);
  });

  it("an oversized request is refused with resource_exhausted and a huge schema with invalid_argument; the server keeps serving", async () => {
    const R = `${registry.url}/chronicle.registry.v1.RegistryService`;
    const huge = await fetch(`${R}/Register`, {
      method: "POST",
      headers: { "content-type": "application/proto", authorization: `Bearer ${TOKEN}` },
      body: new Uint8Array(8 * 1024 * 1024),
    }).catch((e: unknown) => e);
    if (huge instanceof Response) {
      expect(huge.status).toBeGreaterThanOrEqual(400);
      expect(huge.status).toBeLessThan(500);
      expect(await huge.text()).toMatch(/resource_exhausted|too large|limit/i);
    } // else the server closed the connection on an over-limit body, which is a refusal too
    // a schema over --max-schema-bytes (256 KiB) whose base64 JSON request is inside the request limit: refused for its decoded size
    const set = messageSet("big.v1.Big", [{ name: "id", number: 1 }], { javaPackage: "x".repeat(270 * 1024) });
    const { toBinary, create } = await import("@bufbuild/protobuf");
    const { FileDescriptorSetSchema } = await import("@bufbuild/protobuf/wkt");
    const bytes = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, set));
    const res = await fetch(`${R}/Register`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ subject: "big.v1.Big", schema: Buffer.from(bytes).toString("base64") }),
    });
    const answer = (await res.json()) as { code: string; message: string };
    expect(answer.code).toBe("invalid_argument");
    expect(answer.message).toMatch(/the limit is 262144 bytes/);
    const ok = await fetch(`${R}/ListSubjects`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: "{}",
    });
    expect(ok.status).toBe(200);
  });
});
