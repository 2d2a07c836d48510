import { create, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createRegistryClient, registryApi, startRegistryServer, type RegistryServer } from "@chronicle/registry";
import { connect, createProducer, ensureStream, Headers, startConsumerGroup, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import type { StreamInfo } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationsService } from "../gen/chronicle/console/v1/console_pb.js";
import { ORDER_PLACED, orderPlacedDesc, orderPlacedV1, orderStream } from "../testing/shop-schema.js";
import { REQUIRED_ROLE } from "./access.js";
import { startConsoleServer, type ConsoleServer } from "./console-server.js";
import { GroupWatchHub } from "./group-watch.js";
import { createGroupsSource } from "./groups-source.js";
import { renderProto } from "./schemas/proto-text.js";
import { summarize } from "./streams-source.js";

const ADMIN = "admin-token-0123456789";
const READER = "reader-token-0123456789";
const WRITER = "writer-token-0123456789";

function clientFor(url: string, token?: string): Client<typeof OperationsService> {
  return createClient(
    OperationsService,
    createConnectTransport({
      baseUrl: url,
      httpVersion: "1.1",
      interceptors: [(next) => (req) => (token && req.header.set("authorization", `Bearer ${token}`), next(req))],
    }),
  );
}

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e).code,
  );
}

describe("the console's API", () => {
  let nats: LocalServer;
  let registryServer: RegistryServer;
  let conn: ChronicleConnection;
  let server: ConsoleServer;
  let admin: Client<typeof OperationsService>;
  let schemaId = "";
  const def = () => orderStream("orders", 4, schemaId);

  beforeAll(async () => {
    nats = await startLocalServer();
    registryServer = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true } });
    using registry = createRegistryClient({ baseUrl: registryServer.url });
    schemaId = (await registry.register(ORDER_PLACED, orderPlacedV1)).id;
    conn = await connect({ servers: nats.url });
    await ensureStream(conn, def());
    // 1,000 events over 200 keys, every 10th with a "tenant: blue" header
    const p = createProducer(conn, def());
    await p.publishBatch(
      Array.from({ length: 1000 }, (_, i) => ({
        name: "OrderPlaced" as const,
        event: create(orderPlacedDesc(orderPlacedV1), { orderId: `o-${i % 200}`, totalCents: BigInt(i), note: `n${i}` }),
        options: { headers: i % 10 === 0 ? { tenant: "blue" } : {} },
      })),
    );
    await p.close();
    // one event no registry knows: no ce-type
    await conn.js.publish("orders.OrderPlaced.raw", toBinary(StringValueSchema, create(StringValueSchema, { value: "x" })));
    server = await startConsoleServer({
      connection: conn,
      registry: { url: registryServer.url },
      auth: {
        tokens: [
          { name: "ops", role: "admin", token: ADMIN },
          { name: "viewer", role: "read", token: READER },
          { name: "oncall", role: "write", token: WRITER },
        ],
      },
    });
    admin = clientFor(server.url, ADMIN);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await registryServer?.close();
    await conn?.close();
    await nats?.stop();
  });

  it("names the role of every method of both services it serves", () => {
    const methods = [...OperationsService.methods, ...registryApi.RegistryService.methods].map((m) => m.name);
    expect(methods.filter((m) => !(m in REQUIRED_ROLE))).toEqual([]);
  });

  it("answers Connect JSON as curl sends it, and refuses a missing or too weak token", async () => {
    const call = (method: string, token?: string) =>
      fetch(`${server.url}/chronicle.console.v1.OperationsService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: "{}",
      });
    expect((await call("GetSession")).status).toBe(401);
    const ok = await call("GetSession", READER);
    expect(await ok.json()).toMatchObject({ principal: "viewer", role: "read" });
    const denied = await call("PurgeDeadLetters", WRITER);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe("permission_denied");
    // the registry's own API through the console, with the console's roles
    const subjects = await fetch(`${server.url}/chronicle.registry.v1.RegistryService/ListSubjects`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${READER}` },
      body: "{}",
    });
    expect(await subjects.json()).toEqual({ subjects: [ORDER_PLACED] });
  });

  it("pages through a stream forward and backward, each event once, decoded", async () => {
    const forward: bigint[] = [];
    let from = 0n;
    for (let page = 0; page < 20; page++) {
      const r = await admin.browseMessages({ stream: "orders", fromSequence: from, limit: 100 });
      forward.push(...r.events.map((e) => e.sequence));
      if (!r.nextSequence) break;
      from = r.nextSequence;
    }
    expect(forward).toEqual(Array.from({ length: 1001 }, (_, i) => BigInt(i + 1)));
    const backward: bigint[] = [];
    let before = 0n;
    for (let page = 0; page < 20; page++) {
      const r = await admin.browseMessages({ stream: "orders", newest: before === 0n, beforeSequence: before, limit: 100 });
      backward.unshift(...r.events.map((e) => e.sequence));
      if (!r.previousBefore) break;
      before = r.previousBefore;
    }
    expect(backward).toEqual(forward);
    const first = (await admin.browseMessages({ stream: "orders", limit: 1 })).events[0]!;
    expect(first.decodeError).toBe("");
    // protobuf JSON leaves out fields at their default (total_cents 0)
    expect(JSON.parse(first.json)).toEqual({ orderId: "o-0", note: "n0" });
    expect(first).toMatchObject({ schemaId, schemaVersion: 1, type: ORDER_PLACED, key: "o-0" });
    const raw = (await admin.browseMessages({ stream: "orders", newest: true, limit: 1 })).events[0]!;
    expect(raw.json).toBe("");
    expect(raw.decodeError).toContain("no ce-type header");
  });

  it("filters by key, partition, type, header and time on the server", async () => {
    const byKey = await admin.browseMessages({ stream: "orders", key: "o-7", limit: 500 });
    expect(byKey.events.map((e) => e.key)).toEqual(Array(5).fill("o-7"));
    // the newest end of a sparse key, and the page before it
    const newest = await admin.browseMessages({ stream: "orders", key: "o-7", newest: true, limit: 3 });
    expect(newest.events.map((e) => e.sequence)).toEqual(byKey.events.slice(2).map((e) => e.sequence));
    const older = await admin.browseMessages({ stream: "orders", key: "o-7", beforeSequence: newest.previousBefore, limit: 3 });
    expect(older.events.map((e) => e.sequence)).toEqual(byKey.events.slice(0, 2).map((e) => e.sequence));
    const partition = byKey.events[0]!.partition;
    const byPartition = await admin.browseMessages({ stream: "orders", partition, limit: 500 });
    expect(byPartition.events.every((e) => e.partition === partition)).toBe(true);
    const byType = await admin.browseMessages({ stream: "orders", event: ORDER_PLACED, limit: 500, fromSequence: 990n });
    expect(byType.events.map((e) => e.sequence)).toEqual(Array.from({ length: 11 }, (_, i) => BigInt(990 + i)));
    // the console applies the header filter while reading; a page cut by its time budget is continued from next_sequence
    let blue = 0;
    let scanned = 0n;
    for (let from = 0n, pages = 0; pages < 50; pages++) {
      const r = await admin.browseMessages({ stream: "orders", headerName: "Tenant", headerValue: "blue", fromSequence: from, limit: 500 });
      blue += r.events.length;
      scanned += r.scanned;
      if (!r.nextSequence) break;
      from = r.nextSequence;
    }
    expect(blue).toBe(100);
    expect(scanned).toBe(1001n);
    const future = await admin.browseMessages({ stream: "orders", fromTime: new Date(Date.now() + 60_000).toISOString() });
    expect(future.events).toEqual([]);
    const until = await admin.browseMessages({ stream: "orders", untilTime: new Date(Date.now() - 3_600_000).toISOString() });
    expect(until.events).toEqual([]);
  });

  it("refuses bad browse input with invalid_argument naming the field", async () => {
    for (const req of [{ stream: "orders", limit: 501 }, { stream: "no such*" }, { stream: "orders", fromTime: "yesterday" }]) {
      const err = await admin.browseMessages(req).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.InvalidArgument);
    }
    expect(await codeOf(admin.browseMessages({ stream: "missing" }))).toBe(Code.NotFound);
  });

  it("republishes an edited event after checking it against its schema, and audits it", async () => {
    const base = { stream: "orders", eventName: "OrderPlaced", type: ORDER_PLACED, key: "o-1", origin: "orders#2" };
    const writer = clientFor(server.url, WRITER);
    const bad = await writer.republish({ ...base, json: '{"orderId": "o-1", "totalCents": "lots"}' }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(bad?.code).toBe(Code.InvalidArgument);
    expect(bad?.rawMessage).toMatch(/^json: does not match acme.shop.v1.OrderPlaced/);
    expect(await codeOf(writer.republish({ ...base, json: '{"orderId": "o-1", "colour": "red"}' }))).toBe(Code.InvalidArgument);
    expect(await codeOf(clientFor(server.url, READER).republish({ ...base, json: "{}" }))).toBe(Code.PermissionDenied);
    const r = await writer.republish({ ...base, json: '{"orderId": "o-1", "totalCents": "42"}' });
    const stored = await conn.jsm.streams.getMessage("orders", { seq: Number(r.sequence) });
    expect(stored!.header.get(Headers.DataSchema)).toBe(`chronicle:schema:${schemaId}`);
    expect(stored!.header.get("chronicle-republished-from")).toBe("orders#2");
    expect(stored!.subject).toBe(`orders.${r.partition}.OrderPlaced.o-1`);
    const audit = await admin.listAudit({});
    expect(audit.entries[0]).toMatchObject({ who: "oncall", role: "write", action: "republish", outcome: "ok" });
  });

  it("asks for the typed confirmation of a purge and writes the outcome to the audit log", async () => {
    expect(await codeOf(admin.purgeDeadLetters({ stream: "orders", confirm: "yes" }))).toBe(Code.InvalidArgument);
    await conn.jsm.streams.add({ name: "orders_dlq", subjects: ["orders_dlq.>"] } as never).catch(() => undefined);
    expect((await admin.purgeDeadLetters({ stream: "orders", confirm: "purge orders" })).purged).toBe(0n);
    const audit = await admin.listAudit({});
    expect(audit.entries[0]).toMatchObject({ who: "ops", action: "purge", target: "orders_dlq", outcome: "ok", detail: "0 dead letter(s) deleted" });
  });

  it("shows a group's handler failures per second from the counters its members write into their heartbeats", async () => {
    // a member whose handler always fails, retried quickly: 1,000 stored events keep it failing
    const member = await startConsumerGroup(conn, def(), {
      group: "failing",
      failoverMs: 1000,
      retry: { maxAttempts: 1000, initialDelayMs: 20, maxDelayMs: 50, jitter: 0 },
      handlers: {
        OrderPlaced: async () => {
          throw new Error("poison");
        },
      },
      onError: () => undefined,
    });
    const groups = createGroupsSource(conn);
    const hub = new GroupWatchHub({ groups, lastSequence: async () => 0, intervalMs: 1000, membersIntervalMs: 1000 });
    const rates: number[] = [];
    const sub = hub.subscribe("orders", "failing", (snapshot) => void (snapshot && rates.push(snapshot.failedPerSec)));
    try {
      const deadline = Date.now() + 30_000;
      while (!rates.some((r) => r > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(rates[0]).toBe(-1); // one read of the counters is not a rate yet
      expect(
        rates.some((r) => r > 0),
        `failed per second: ${rates.join(", ")}`,
      ).toBe(true);
    } finally {
      sub.unsubscribe();
      hub.close();
      await member.stop();
    }
  });

  it("polls a watched group once per interval however many watch it", async () => {
    const groups = createGroupsSource(conn);
    let describes = 0;
    let polls = 0;
    const counted = {
      ...groups,
      describe: (s: string, g: string) => (polls++, describes++, groups.describe(s, g)),
      lag: (s: string, g: string) => (polls++, groups.lag(s, g)),
    };
    // a group that exists (its record in the state log), with no member running
    const member = await startConsumerGroup(conn, def(), { group: "g1", handlers: {}, onError: () => undefined });
    await member.stop();
    const hub = new GroupWatchHub({ groups: counted, lastSequence: async () => 0, intervalMs: 1000 });
    const seen: number[] = [0, 0, 0];
    const subs = [0, 1, 2].map((i) => hub.subscribe("orders", "g1", () => seen[i]!++));
    await new Promise((r) => setTimeout(r, 3500));
    hub.close();
    for (const s of subs) s.unsubscribe();
    // a poll at once, then one a second: 4 in 3.5 s (3 on a machine too busy to keep time); members only on the first
    expect(polls).toBeGreaterThanOrEqual(3);
    expect(polls).toBeLessThanOrEqual(4);
    expect(describes).toBe(1);
    expect(seen).toEqual([polls, polls, polls]);
  });
});

describe("stream health", () => {
  const info = (cluster: StreamInfo["cluster"], replicas: number) =>
    ({
      config: {
        name: "s",
        num_replicas: replicas,
        storage: "file",
        subject_transform: { src: "s.*.*", dest: "s.{{partition(8,2)}}.{{wildcard(1)}}.{{wildcard(2)}}" },
      },
      state: { messages: 0, bytes: 0, first_seq: 0, last_seq: 0, consumer_count: 0 },
      cluster,
    }) as unknown as StreamInfo;

  it("warns when there is no leader or a replica is behind or offline", () => {
    expect(
      summarize(
        info(
          {
            name: "c",
            leader: "n1",
            replicas: [
              { name: "n2", current: true, active: 1 },
              { name: "n3", current: true, active: 1 },
            ],
          } as never,
          3,
        ),
        undefined,
      ).warnings,
    ).toEqual([]);
    const bad = summarize(
      info(
        {
          name: "c",
          replicas: [
            { name: "n2", current: false, lag: 42, active: 1 },
            { name: "n3", current: false, offline: true, active: 1 },
          ],
        } as never,
        3,
      ),
      "always",
    );
    expect(bad.partitions).toBe(8);
    expect(bad.warnings).toEqual([
      "no leader: the stream accepts no writes until one is elected",
      "replica n2 is behind the leader by 42 operation(s)",
      "replica n3 is offline",
      "2 of 3 replicas report in",
    ]);
  });
});

describe("proto text", () => {
  it("renders a schema's own files with each line's element", () => {
    const lines = renderProto(orderPlacedV1);
    expect(lines.map((l) => l.text)).toContain("  int64 total_cents = 2;");
    expect(lines.find((l) => l.text.includes("total_cents"))!.element).toBe("acme.shop.v1.OrderPlaced.total_cents");
    expect(lines.some((l) => l.text.includes("oneof"))).toBe(false);
  });
});
