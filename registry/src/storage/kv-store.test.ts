import { Code, ConnectError } from "@connectrpc/connect";
import { startLocalServer } from "@chronicle/testing";
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { createRegistryClient } from "../client/registry-client.js";
import { startRegistryServer } from "../server/registry-server.js";
import { messageSet } from "../testing/schemas.js";
import { createKvStore, DEFAULT_REGISTRY_BUCKET } from "./kv-store.js";

const S = "acme.orders.v1.OrderPlaced";
const open = { tokens: [], anonymousAdmin: true };

describe("registry on JetStream KV", () => {
  it("assigns versions 1..N without gaps or duplicates when 3 servers register 20 versions at once", async () => {
    await using nats = await startLocalServer();
    const servers = await Promise.all([0, 1, 2].map(() => startRegistryServer({ nats: nats.url, auth: open })));
    const clients = servers.map((s) => createRegistryClient({ baseUrl: s.url }));
    try {
      // distinct but compatible: only a file option differs, so each has its own id
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => clients[i % 3]!.register(S, messageSet(S, [{ name: "order_id", number: 1 }], { javaPackage: `com.acme.v${i}` }))),
      );
      expect(results.every((r) => r.created)).toBe(true);
      expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(new Set(results.map((r) => r.id)).size).toBe(20);
      // every server sees the same history: they hold no state of their own
      for (const c of clients) expect(await c.listVersions(S)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      for (const r of results) expect((await clients[1]!.getVersion(S, r.version)).id).toBe(r.id);

      // the same content registered concurrently on every server gets one version
      const same = messageSet(S, [
        { name: "order_id", number: 1 },
        { name: "note", number: 2 },
      ]);
      const dup = await Promise.all(clients.flatMap((c) => [c.register(S, same), c.register(S, same)]));
      expect(new Set(dup.map((d) => d.version))).toEqual(new Set([21]));
      expect(dup.filter((d) => d.created)).toHaveLength(1);
    } finally {
      for (const c of clients) c.close();
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it("keeps schemas content-addressed in a history-1 file bucket, and survives a registry restart", async () => {
    await using nats = await startLocalServer();
    let id: string;
    {
      await using server = await startRegistryServer({ nats: nats.url, auth: open });
      const c = createRegistryClient({ baseUrl: server.url });
      // one file with two events: both subjects register the same content
      const both = messageSet(S, [{ name: "order_id", number: 1 }]);
      both.file[0]!.messageType.push({ ...both.file[0]!.messageType[0]!, name: "OrderShipped" });
      id = (await c.register(S, both)).id;
      expect((await c.register("acme.orders.v1.OrderShipped", both)).id).toBe(id);
      c.close();
    }
    const nc = await connect({ servers: nats.url });
    try {
      const kv = await new Kvm(nc).open(DEFAULT_REGISTRY_BUCKET);
      const status = await kv.status();
      expect(status.history).toBe(1);
      expect(status.streamInfo.config.storage).toBe("file");
      const keys: string[] = [];
      for await (const k of await kv.keys()) keys.push(k);
      expect(keys).toContain(`schemas.${id.slice(7)}`);
      expect(keys).toContain(`subjects.${S}`);

      const store = await createKvStore(nc);
      const created = await store.createIfAbsent("t.a", new Uint8Array([1]));
      expect(created).toBeGreaterThan(0);
      expect(await store.createIfAbsent("t.a", new Uint8Array([2]))).toBeUndefined();
      const e = (await store.get("t.a"))!;
      expect(e.revision).toBe(created);
      expect(await store.updateIfRevision("t.a", new Uint8Array([3]), e.revision + 7)).toBeUndefined();
      const updated = await store.updateIfRevision("t.a", new Uint8Array([3]), e.revision);
      expect(updated).toBeGreaterThan(e.revision);
      expect(await store.lastRevision()).toBe(updated);
      await store.remove("t.a");
      // the removal, with its own revision
      const removed = await store.get("t.a");
      expect(removed?.value).toBeUndefined();
      expect(removed?.revision).toBe(await store.lastRevision());
      expect(await store.createIfAbsent("t.a", new Uint8Array([4]))).toBeGreaterThan(updated!);
    } finally {
      await nc.close();
    }
    await using again = await startRegistryServer({ nats: nats.url, auth: open });
    const c = createRegistryClient({ baseUrl: again.url });
    expect((await c.getLatestVersion(S)).id).toBe(id);
    expect((await fetch(`${again.url}/schemas/ids/${id}`)).status).toBe(200);
    // a schema shared by two subjects stays while one of them still refers to it
    await c.deleteSubject(S);
    await c.deleteSubject(S, { permanent: true });
    expect((await c.getSchema(id)).length).toBeGreaterThan(0);
    c.close();
  });

  it("lowers the schema limit to what the server's max_payload can store, and with NATS down answers reads from memory and writes with unavailable", async () => {
    await using nats = await startLocalServer({ maxPayload: 256 * 1024 });
    await using server = await startRegistryServer({ nats: nats.url, auth: open });
    expect(server.maxSchemaBytes).toBe(256 * 1024 - 8 * 1024);
    const c = createRegistryClient({ baseUrl: server.url, timeoutMs: 20_000 });
    try {
      const big = await c.register(S, messageSet(S, [{ name: "a".repeat(130 * 1024), number: 1 }])).catch((e: unknown) => ConnectError.from(e));
      expect(big).toBeInstanceOf(ConnectError);
      expect((big as ConnectError).code).toBe(Code.InvalidArgument);
      expect((big as ConnectError).rawMessage).toMatch(/limit is 253952 bytes/);

      await c.register(S, messageSet(S, [{ name: "order_id", number: 1 }]));
      await nats.kill("SIGKILL");
      expect(await c.listVersions(S)).toEqual([1]);
      const down = await c
        .register(
          S,
          messageSet(S, [
            { name: "order_id", number: 1 },
            { name: "x", number: 2 },
          ]),
        )
        .catch((e: unknown) => ConnectError.from(e));
      expect((down as ConnectError).code).toBe(Code.Unavailable);
      await nats.restart();
      // the registry reconnects by itself
      let version = 0;
      for (let i = 0; i < 100 && version === 0; i++) {
        version = await c
          .register(
            S,
            messageSet(S, [
              { name: "order_id", number: 1 },
              { name: "x", number: 2 },
            ]),
          )
          .then((r) => r.version)
          .catch(() => 0);
        if (version === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(version).toBe(2);
      expect(await c.listVersions(S)).toEqual([1, 2]);
    } finally {
      c.close();
    }
  });
});
