// The console end to end: real NATS, a real registry, the console server,
// and Debian's chromium driven by Playwright. With
// CHRONICLE_CONSOLE_SCREENSHOTS=<dir> (npm run console:screenshots) it also
// writes the screenshots docs/console.md shows.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Page } from "@playwright/test";
import { createRegistryClient, startRegistryServer, type RegistryClient, type RegistryServer } from "@chronicle/registry";
import {
  connect,
  createProducer,
  ensureStream,
  listDeadLetters,
  NonRetryableError,
  startConsumerGroup,
  type ChronicleConnection,
  type ConsumerGroupMember,
} from "@chronicle/runtime";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationsService } from "../gen/chronicle/console/v1/console_pb.js";
import { startConsoleServer, type ConsoleServer } from "../server/console-server.js";
import { ensureWebBuilt } from "../server/web-assets.js";
import { ensureChromium, launchBrowser } from "../testing/browser.js";
import { ORDER_PLACED, orderPlacedDesc, orderPlacedV1, orderPlacedV2, orderStream } from "../testing/shop-schema.js";

const ADMIN = "admin-token-0123456789";
const READER = "reader-token-0123456789";
const shots = process.env["CHRONICLE_CONSOLE_SCREENSHOTS"];
const chromium = ensureChromium();
if ("missing" in chromium) console.warn(`console e2e tests skipped: ${chromium.missing}`);

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string, page?: Page): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${page ? `; the page shows: ${await page.locator("main").textContent()}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf("missing" in chromium)("the console in a real browser", () => {
  let nats: LocalServer;
  let registryServer: RegistryServer;
  let registry: RegistryClient;
  let conn: ChronicleConnection;
  let server: ConsoleServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let admin: Page;
  let member: ConsumerGroupMember | undefined;
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  let fixed = false;
  const handled = new Set<string>();

  const shop = () => orderStream("shop", 4, v2Id, orderPlacedV2);
  let v2Id = "";

  async function publish(keys: string[]): Promise<void> {
    const p = createProducer(conn, shop());
    await p.publishBatch(
      keys.map((k, i) => ({
        name: "OrderPlaced" as const,
        event: create(orderPlacedDesc(orderPlacedV2), { orderId: k, totalCents: String(100 + i), currency: "EUR" }),
      })),
    );
    await p.close();
  }

  async function signIn(page: Page, token: string, path: string): Promise<void> {
    await page.goto(`${server.url}/#${path}`);
    await page.getByTestId("token-input").fill(token);
    await page.getByTestId("sign-in").click();
    await page.getByTestId("who").waitFor();
  }

  async function shot(page: Page, name: string): Promise<void> {
    if (!shots) return;
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
  }

  beforeAll(async () => {
    ensureWebBuilt();
    nats = await startLocalServer();
    registryServer = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true } });
    registry = createRegistryClient({ baseUrl: registryServer.url });
    conn = await connect({ servers: nats.url });
    server = await startConsoleServer({
      connection: conn,
      natsServers: nats.url,
      registry: { url: registryServer.url },
      natsMonitorUrl: nats.monitorUrl,
      auth: {
        tokens: [
          { name: "ops", role: "admin", token: ADMIN },
          { name: "viewer", role: "read", token: READER },
        ],
      },
    });
    browser = await launchBrowser((chromium as { path: string }).path);
    admin = await browser.newPage();
    await ensureStream(conn, shop());
  }, 120_000);

  afterAll(async () => {
    open?.();
    await member?.stop();
    await browser?.close();
    await server?.close();
    registry?.close();
    await registryServer?.close();
    await conn?.close();
    await nats?.stop();
  });

  it("shows two versions of a subject side by side with each mode's rule violations", async () => {
    await registry.setConfig({ subject: ORDER_PLACED, mode: "NONE" });
    await registry.register(ORDER_PLACED, orderPlacedV1);
    v2Id = (await registry.register(ORDER_PLACED, orderPlacedV2)).id;
    await signIn(admin, ADMIN, "/schemas");
    await admin.getByTestId("subjects").getByText(ORDER_PLACED).waitFor();
    await shot(admin, "schemas");
    await admin.getByTestId("subjects").getByText(ORDER_PLACED).click();
    await admin.getByTestId("diff").waitFor();
    // the subject's own mode first: NONE accepts anything
    expect(await admin.getByTestId("verdict-NONE").textContent()).toContain("compatible");
    await admin.getByTestId("verdict-FULL_TRANSITIVE").click();
    await admin.getByTestId("violation").first().waitFor();
    const notes = (await admin.getByTestId("violation").allTextContents()).join("\n");
    expect(notes).toMatch(/FIELD_(WIRE_JSON_)?COMPATIBLE_TYPE/);
    expect(notes).toContain("FIELD_NO_DELETE");
    expect(notes).toContain("acme.shop.v1.OrderPlaced.total_cents");
    // the changed line is marked on both sides
    expect(await admin.locator("tr.row-changed").count()).toBeGreaterThan(0);
    await shot(admin, "schema-diff");
  });

  it("finds a stored event by key, decoded with its registered schema", async () => {
    await publish(Array.from({ length: 300 }, (_, i) => `order-${i}`));
    await admin.goto(`${server.url}/#/messages?stream=shop&newest=1`);
    await admin.getByTestId("event-row").first().waitFor();
    await admin.getByTestId("filter-key").fill("order-123");
    await admin.getByTestId("browse").click();
    await until(async () => (await admin.getByTestId("event-row").count()) === 1, 20_000, "one event of key order-123");
    await admin.getByTestId("event-row").click();
    const json = await admin.getByTestId("event-json").textContent();
    expect(JSON.parse(json!)).toEqual({ orderId: "order-123", totalCents: "223", currency: "EUR" });
    await shot(admin, "messages");
  });

  it("shows a group's lag rise while it is held and fall to zero once it runs", async () => {
    member = await startConsumerGroup(conn, shop(), {
      group: "billing",
      retry: { maxAttempts: 1 },
      onError: () => undefined,
      handlers: {
        OrderPlaced: async (e) => {
          const key = (e as unknown as { orderId: string }).orderId;
          await gate;
          if (key.startsWith("poison") && !(fixed && key === "poison")) throw new NonRetryableError(`cannot bill order ${key}`);
          handled.add(key);
        },
      },
    });
    await admin.goto(`${server.url}/#/groups/shop/billing`);
    await until(
      async () =>
        Number(
          (
            await admin
              .getByTestId("group-lag")
              .textContent({ timeout: 1000 })
              .catch(() => "0")
          )?.replace(/,/g, ""),
        ) >= 250,
      30_000,
      "the lag to show the held events",
      admin,
    );
    await admin.getByTestId("members").waitFor();
    // a few seconds of history make the trend charts worth a picture
    if (shots) await admin.waitForTimeout(4000);
    await shot(admin, "group");
    open();
    await until(async () => (await admin.getByTestId("group-lag").textContent()) === "0", 30_000, "the lag to fall to 0 in the page");
    expect(handled.size).toBe(300);
  });

  it("dead-letters a poison event, redrives it from the page, and the group handles it", async () => {
    await publish(["poison"]);
    await until(async () => (await listDeadLetters(conn, "shop")).length === 1, 20_000, "the poison event in shop_dlq");
    fixed = true;
    await admin.goto(`${server.url}/#/dead-letters?stream=shop`);
    await admin.getByTestId("dead-letter-row").first().waitFor();
    expect(await admin.getByTestId("dead-letters").textContent()).toContain("cannot bill order poison");
    await shot(admin, "dead-letters");
    await admin.getByTestId("dead-letter-select").first().check();
    await admin.getByTestId("redrive-selected").click();
    await admin.getByTestId("confirm-input").fill("billing");
    await admin.getByTestId("confirm-button").click();
    await until(async () => (await admin.getByTestId("redrive-progress").textContent())?.includes("done") ?? false, 20_000, "the redrive to finish");
    expect(await admin.getByTestId("redrive-progress").textContent()).toContain("1 of 1 redriven");
    await until(() => handled.has("poison"), 30_000, "the group to handle the redriven event");
    await admin.goto(`${server.url}/#/audit`);
    await admin.getByTestId("audit-row").first().waitFor();
    expect(await admin.getByTestId("audit").textContent()).toMatch(/ops \(admin\)redriveshop_dlq to group billing.*ok/);
    await shot(admin, "audit");
  });

  it("lets a read token look but not redrive", async () => {
    await publish(["poison-2"]);
    await until(async () => (await listDeadLetters(conn, "shop")).length === 1, 20_000, "the second poison event in shop_dlq");
    const viewer = await browser.newPage();
    await signIn(viewer, READER, "/dead-letters?stream=shop");
    await viewer.getByTestId("dead-letter-row").first().waitFor();
    expect(await viewer.getByTestId("redrive-selected").count()).toBe(0);
    expect(await viewer.getByTestId("purge").count()).toBe(0);
    // and the API refuses the token whatever the page shows
    const client = createClient(
      OperationsService,
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "1.1",
        interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${READER}`), next(req))],
      }),
    );
    const [d] = await listDeadLetters(conn, "shop");
    const err = await (async () => {
      for await (const _ of client.redriveDeadLetters({ stream: "shop", group: "billing", sequences: [BigInt(d!.dlqSequence)] })) void _;
    })().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.PermissionDenied);
    expect((await listDeadLetters(conn, "shop")).length).toBe(1);
    await viewer.close();
  });

  it("shows the streams with their partitions", async () => {
    await admin.goto(`${server.url}/#/streams`);
    await admin.getByTestId("stream-shop").waitFor();
    await admin.getByTestId("stream-shop").getByRole("button").click();
    await admin.getByTestId("partitions").waitFor();
    const rows = await admin.getByTestId("partitions").locator("tbody tr").allTextContents();
    expect(rows).toHaveLength(4);
    await shot(admin, "streams");
  });

  it("shows a banner naming the registry when it stops mid-session", async () => {
    await admin.goto(`${server.url}/#/schemas`);
    await admin.getByTestId("subjects").waitFor();
    await registryServer.close();
    await admin.getByTestId("banner").waitFor({ timeout: 20_000 });
    expect(await admin.getByTestId("banner").textContent()).toContain("The schema registry is unreachable");
    await admin.reload();
    await admin.getByTestId("error").waitFor({ timeout: 20_000 });
    expect(await admin.getByTestId("error").textContent()).toMatch(/unavailable|unreachable|ECONNREFUSED/i);
    await shot(admin, "registry-down");
  });
});
