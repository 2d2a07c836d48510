import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { createConnectRouter } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../auth/tokens.js";
import { GetLatestVersionRequestSchema, RegistryService } from "../../gen/chronicle/registry/v1/registry_pb.js";
import { openRegistry, type Registry } from "../../service/registry.js";
import { createMemoryStore } from "../../storage/memory-store.js";
import { messageSetBytes } from "../../testing/schemas.js";
import { serveHotReads } from "./hot-reads.js";
import { authorizeByRole } from "./interceptors.js";
import { createRegistryService } from "./registry-service.js";

const S = "acme.orders.v1.OrderPlaced";
const READER = "read-token-0123456789abcdef";

describe("which requests the fast path answers (real HTTP)", () => {
  let registry: Registry;
  let server: http.Server;
  let url: string;
  const seen = { next: 0, handedOver: 0 };
  beforeAll(async () => {
    registry = await openRegistry({ store: createMemoryStore() });
    await registry.register(S, messageSetBytes(S, [{ name: "order_id", number: 1 }]));
    const auth = createAuthenticator({ tokens: [{ name: "svc", role: "read", token: READER }] });
    const router = createConnectRouter({ interceptors: [authorizeByRole(auth)] }).service(RegistryService, createRegistryService(registry));
    const handlers = new Map(
      router.handlers.map((h) => [
        h.requestPath,
        Object.assign((req: Parameters<typeof h>[0]) => {
          seen.handedOver++;
          return h(req);
        }, h),
      ]),
    );
    const handler = serveHotReads({
      registry,
      auth,
      connectHandlers: () => handlers,
      next: (_req, res) => {
        seen.next++;
        res.writeHead(404);
        res.end();
      },
    });
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/chronicle.registry.v1.RegistryService`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    registry.close();
  });

  const latest = toBinary(GetLatestVersionRequestSchema, create(GetLatestVersionRequestSchema, { subject: S }));
  const send = async (path: string, headers: Record<string, string>, body: Uint8Array | string, method = "POST") => {
    const before = { ...seen };
    const res = await fetch(`${url}/${path}`, { method, headers: { authorization: `Bearer ${READER}`, ...headers }, ...(method === "POST" ? { body } : {}) });
    await res.arrayBuffer();
    return { status: res.status, next: seen.next - before.next, handedOver: seen.handedOver - before.handedOver };
  };

  it("answers a plain binary or JSON read itself, with or without a timeout", async () => {
    expect(await send("GetLatestVersion", { "content-type": "application/proto" }, latest)).toEqual({ status: 200, next: 0, handedOver: 0 });
    expect(await send("GetLatestVersion", { "content-type": "application/proto", "connect-timeout-ms": "10000" }, latest)).toEqual({
      status: 200,
      next: 0,
      handedOver: 0,
    });
    expect(await send("GetVersion", { "content-type": "application/json" }, `{"subject":"${S}","version":1}`)).toEqual({ status: 200, next: 0, handedOver: 0 });
  });

  it("hands a read it cannot answer, after reading it, to connect-es", async () => {
    expect(await send("GetLatestVersion", { "content-type": "application/json" }, '{"subject":"acme.nope.v1.Nope"}')).toEqual({
      status: 404,
      next: 0,
      handedOver: 1,
    });
    expect(await send("GetLatestVersion", { "content-type": "application/proto", authorization: "Bearer nope-nope-nope-nope" }, latest)).toEqual({
      status: 401,
      next: 0,
      handedOver: 1,
    });
    expect(await send("GetSchema", { "content-type": "application/json" }, `{"id":"${"a".repeat(20_000)}"}`)).toEqual({ status: 400, next: 0, handedOver: 1 });
  });

  it("leaves every other request to connect-node untouched", async () => {
    expect((await send("ListSubjects", { "content-type": "application/proto" }, new Uint8Array())).next).toBe(1);
    expect((await send("GetLatestVersion", { "content-type": "application/grpc" }, latest)).next).toBe(1);
    expect((await send("GetLatestVersion", { "content-type": "application/proto", "content-encoding": "gzip" }, latest)).next).toBe(1);
    expect((await send("GetLatestVersion?connect=v1&encoding=json&message=%7B%7D", {}, "", "GET")).next).toBe(1);
  });
});
