// `npm run demo`: the signup and order flows end to end on a local NATS and
// schema registry that the demo starts itself. See examples/README.md.
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openOutboxDatabase, startRelay, type SqliteDatabase } from "@chronicle/outbox";
import { createRegistryClient, startRegistryServer } from "@chronicle/registry";
import { connect, ensureStream, lag, listDeadLetters, redriveDeadLetter, type ConsumerGroupMember } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { createSignupService } from "../../identity/src/signup-service.js";
import { SIGNUP_GROUPS, startSignupConsumers } from "../../identity/src/signup-consumers.js";
import { usersStream } from "../../identity/src/gen/shop/identity/v1/identity_chronicle.js";
import { createCheckoutService } from "../../orders/src/checkout-service.js";
import { startInventoryService } from "../../orders/src/inventory-service.js";
import { rebuildOrderSummary, startOrderSummary, summaryTotals } from "../../orders/src/order-summary.js";
import { ordersStream } from "../../orders/src/gen/shop/orders/v1/orders_chronicle.js";
import { createProgress } from "./progress.js";
import { pushSchemas, tryIncompatibleChange } from "./push-schemas.js";

const HELP = `Usage: npm run demo -- [options]

Runs the signup and order flows of examples/identity and examples/orders on a
local nats-server and schema registry that it starts itself, then prints a
summary of what it showed. Exit code 0 only when every check of the summary holds.

Options:
  --events N       signups and orders to produce, each (default 400)
  --keep-running   keep NATS, the registry and the services running after the summary (Ctrl-C stops)
  --quiet          print only the summary
  -h, --help       show this help
`;

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "400" },
    "keep-running": { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const N = Number(values.events);
if (!Number.isInteger(N) || N < 20 || N > 100_000) {
  process.stderr.write(`demo: --events must be an integer from 20 to 100000, got "${values.events}"\n`);
  process.exit(2);
}
const quiet = values.quiet;
const FAILOVER_MS = 3000;
const POISON_SKU = "sku-discontinued";
const CATALOG = ["sku-mug", "sku-tee", "sku-cap", "sku-poster", "sku-socks"];
const t0 = performance.now();
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1);
const say = (line: string) => {
  if (!quiet) progress.log(line);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const progress = createProgress(process.stdout, { quiet });

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

// 1. Infrastructure: nats-server with JetStream and the schema registry
say("starting a local nats-server with JetStream (installed on first use) and the schema registry ...");
const dir = mkdtempSync(join(tmpdir(), "chronicle-demo-"));
await using server = await startLocalServer({ storeDir: join(dir, "nats") });
await using registry = await startRegistryServer({ nats: server.url, port: 0, auth: { tokens: [], anonymousAdmin: true } });
await using conn = await connect({ servers: server.url, name: "demo" });
say(`  NATS ${server.url}, registry ${registry.url}`);

// 2. Schemas: register every event, then try an incompatible change
const client = createRegistryClient({ baseUrl: registry.url });
const pushed = await pushSchemas(client, [usersStream, ordersStream] as never);
for (const p of pushed) say(`  registered ${p.subject} v${p.version} ${p.id.slice(0, 19)}…`);
const refused = await tryIncompatibleChange(client, ordersStream as never, "OrderPlaced", "total_cents");
say(`  changing OrderPlaced.total_cents from int64 to string: refused (${refused.length} violation${refused.length === 1 ? "" : "s"})`);
for (const v of refused) say(`    ${v}`);

// 3. Streams (with their dead-letter streams)
await ensureStream(conn, usersStream);
await ensureStream(conn, ordersStream);
say(`  streams "users" (${usersStream.settings.partitions} partitions) and "orders" (${ordersStream.settings.partitions} partitions) with their _dlq streams`);

// 4. Services
const signup = createSignupService(conn);
const identity = await startSignupConsumers(conn, { failoverMs: FAILOVER_MS });
const ordersDb = openOutboxDatabase(join(dir, "orders.db"));
const checkout = await createCheckoutService(ordersDb.db as SqliteDatabase);
const checkoutRelay = await startRelay(checkout.outbox, conn, { pollIntervalMs: 20, leaseMs: 3000 });
const inventory = await startInventoryService(conn, CATALOG, { failoverMs: FAILOVER_MS });
const live = await startOrderSummary(conn);
const paymentsDbPath = join(dir, "payments.db");

interface PaymentStats {
  handled: number;
  duplicates: number;
  charges: number;
}
const paymentRuns: PaymentStats[] = [];
function startPaymentProcess(): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL("../../orders/src/payment-process.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx", "--conditions=@chronicle/source"],
    env: { ...process.env, NATS_URL: server.url, PAYMENTS_DB: paymentsDbPath, FAILOVER_MS: String(FAILOVER_MS) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const stats: PaymentStats = { handled: 0, duplicates: 0, charges: 0 };
  paymentRuns.push(stats);
  return new Promise((resolve, reject) => {
    child.on("message", (m: { type: string } & PaymentStats) => {
      if (m.type === "ready") resolve(child);
      if (m.type === "stats") Object.assign(stats, { handled: m.handled, duplicates: m.duplicates, charges: m.charges });
    });
    child.once("exit", (code, signal) => reject(new Error(`payment process exited (${signal ?? code}) before it was ready`)));
  });
}
say("  starting the payment service as a child process ...");
let payments = await startPaymentProcess();
say(
  `  services up: signup + ${Object.keys(SIGNUP_GROUPS).length} signup groups, checkout (outbox), payments (pid ${payments.pid}), inventory, order-summary [${elapsed()} s]`,
);

// progress display: produced, handled and lag per group
const inProcess: ConsumerGroupMember[] = [...identity.members, inventory.member, live.member];
const produced = { signups: 0, orders: 0, resubmitted: 0, lateResubmits: 0, republished: 0 };
let lagByGroup = new Map<string, number>();
let lastPhase = "producing";
const refreshLag = async () => {
  const next = new Map<string, number>();
  for (const stream of ["users", "orders"]) for (const g of await lag(conn, stream)) next.set(`${stream}/${g.group}`, g.lag);
  lagByGroup = next;
};
const render = (): string[] => {
  const paid = paymentRuns.reduce((a, r) => a + r.handled, 0);
  const lines = [
    `[${elapsed().padStart(5)} s] ${lastPhase}: ${produced.signups} signups, ${produced.orders} orders placed (+${produced.republished + produced.resubmitted} deliberate duplicates)`,
  ];
  const cols = inProcess.map((m) => `${m.group} ${m.metrics().handled} (lag ${lagByGroup.get(`${m.stream}/${m.group}`) ?? "?"})`);
  cols.splice(identity.members.length, 0, `payments ${paid}+ (lag ${lagByGroup.get("orders/payments") ?? "?"})`);
  lines.push(`  users:  ${cols.slice(0, identity.members.length).join(", ")}`);
  lines.push(`  orders: ${cols.slice(identity.members.length).join(", ")}; shipped ${summaryTotals(live.summary).shipped}`);
  return lines;
};

const lagTimer = setInterval(() => void refreshLag().catch(() => undefined), 400);
progress.start(render);
let ok = false;
try {
  // 5. Traffic: signups and orders, with duplicates, a poison order and a crash
  let poisonOrder = "";
  const orderIds: string[] = [];
  const killAt = Math.floor(N * 0.4);
  let restart: Promise<ChildProcess> | undefined;
  let killedPid = 0;
  for (let i = 0; i < N; i++) {
    const country = ["DE", "FR", "US", "JP", "BR"][i % 5]!;
    const userId = await signup.signUp({
      email: i % 50 === 7 ? `user${i}@mailinator.test` : `user${i}@example.com`,
      displayName: `User ${i}`,
      country,
      referral: ["search", "friend", "ad"][i % 3]!,
    });
    produced.signups++;
    if (i % 25 === 3) {
      await signup.republish(userId);
      produced.republished++;
    }
    const items = [
      { sku: i === Math.floor(N / 2) ? POISON_SKU : CATALOG[i % CATALOG.length]!, quantity: 1 + (i % 3), unitPriceCents: 500n + BigInt(i % 7) * 100n },
    ];
    const order = checkout.placeOrder({ customerId: userId, items });
    if (items[0]!.sku === POISON_SKU) poisonOrder = order.orderId;
    orderIds.push(order.orderId);
    produced.orders++;
    if (i % 20 === 11) {
      // a client retry: within the duplicate window (the stream drops it), or after it (consumers absorb it)
      const late = i % 40 === 31;
      checkout.resubmit(orderIds[i - 5]!, late ? { dedupKey: `late-retry:${orderIds[i - 5]}` } : {});
      produced.resubmitted++;
      if (late) produced.lateResubmits++;
    }
    if (i === killAt) {
      killedPid = payments.pid ?? 0;
      payments.kill("SIGKILL");
      say(`[${elapsed()} s] SIGKILLed the payment service (pid ${killedPid}) mid-stream; restarting it`);
      restart = startPaymentProcess();
    }
    if (i % 10 === 9) await sleep(15);
  }
  payments = await restart!;
  say(`[${elapsed()} s] payment service restarted (pid ${payments.pid}); its partitions moved to it after the dead member's session expired`);

  // 6. Drain: every order but the poison one shipped, every group caught up
  lastPhase = "draining";
  const expectedShipped = N - 1;
  await waitFor(`${expectedShipped} orders shipped`, () => summaryTotals(live.summary).shipped >= expectedShipped, 90_000);
  await waitFor("the signup groups to catch up", () => identity.members.every((m) => m.metrics().handled >= N));
  await refreshLag();
  progress.pause();
  say(`[${elapsed()} s] ${expectedShipped} orders shipped; lag now: ${[...lagByGroup].map(([g, l]) => `${g} ${l}`).join(", ")}`);

  // 7. The dead letter, its fix and redrive
  const deadLetters = await listDeadLetters(conn, "orders");
  for (const d of deadLetters) say(`  dead letter #${d.dlqSequence}: ${d.eventName} key=${d.key} group=${d.group} reason=${d.reason}: ${d.error}`);
  say(`  fix: the warehouse adds "${POISON_SKU}" to its catalog; redriving to group "inventory" only`);
  inventory.catalog.add(POISON_SKU);
  let redriven = 0;
  for (const d of deadLetters) {
    await redriveDeadLetter(conn, "orders", d.dlqSequence);
    redriven++;
  }
  await waitFor(`order ${poisonOrder} shipped after the redrive`, () => live.summary.orders.get(poisonOrder)?.status === "shipped", 30_000);
  const deadLettersLeft = (await listDeadLetters(conn, "orders")).length;
  say(`[${elapsed()} s] redriven ${redriven}; order ${poisonOrder} shipped; dead letters left: ${deadLettersLeft}`);

  // 8. Rebuild the projection from history and compare it with the live one
  const rebuildStart = performance.now();
  const rebuilt = await rebuildOrderSummary(conn);
  const rebuildMs = performance.now() - rebuildStart;
  const liveTotals = summaryTotals(live.summary);
  const rebuiltTotals = summaryTotals(rebuilt);
  const same =
    JSON.stringify(liveTotals, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v)) ===
    JSON.stringify(rebuiltTotals, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  say(
    `  order-summary rebuilt from ${rebuilt.applied} stored events with a replay reader in ${rebuildMs.toFixed(0)} ms: ${same ? "identical to the live projection" : "DIFFERENT from the live projection"}`,
  );

  // 9. Summary and checks
  const paymentsDb = openOutboxDatabase(paymentsDbPath);
  const pdb = paymentsDb.db as SqliteDatabase;
  const charges = (pdb.prepare("SELECT count(*) AS n FROM charges").get() as { n: number }).n;
  const doubleCharges = (pdb.prepare("SELECT count(*) - count(DISTINCT payment_id) AS n FROM charges").get() as { n: number }).n;
  await paymentsDb.close();
  const ordersInfo = await conn.jsm.streams.info("orders");
  const usersInfo = await conn.jsm.streams.info("users");
  const handledInProcess = inProcess.reduce((a, m) => a + m.metrics().handled, 0);
  const duplicatesInProcess = inProcess.reduce((a, m) => a + m.metrics().duplicates, 0);
  const paymentDuplicates = paymentRuns.reduce((a, r) => a + r.duplicates, 0);
  const welcomeTwice = [...identity.effects.welcomeEmails.values()].filter((n) => n > 1).length;
  const violations = identity.effects.orderViolations + live.summary.orderViolations + rebuilt.orderViolations;

  const checks: [string, boolean][] = [
    [`every signup reached all ${identity.members.length} groups (${N} each)`, identity.members.every((m) => m.metrics().handled === N)],
    [
      `welcome emails: ${identity.effects.welcomeEmails.size} sent, ${welcomeTwice} sent twice`,
      identity.effects.welcomeEmails.size === N && welcomeTwice === 0,
    ],
    [`charges: ${charges} for ${N} orders, ${doubleCharges} double charges`, charges === N && doubleCharges === 0],
    [`orders shipped: ${liveTotals.shipped} of ${N}`, liveTotals.shipped === N],
    [`dead-lettered 1 (the poison order), redriven ${redriven}, left ${deadLettersLeft}`, deadLetters.length === 1 && redriven === 1 && deadLettersLeft === 0],
    [`rebuilt projection equals the live one`, same],
    [`per-key order violations: ${violations}`, violations === 0],
  ];
  ok = checks.every(([, pass]) => pass);
  const out = [
    "",
    "Summary",
    `  events produced   ${usersInfo.state.messages} on "users", ${ordersInfo.state.messages} on "orders" (OrderPlaced, PaymentCaptured, OrderShipped)`,
    `  events handled    ${handledInProcess} in-process + ${charges} charges by the payment process`,
    `  duplicates        ${produced.republished + produced.resubmitted} published deliberately: ${checkoutRelay.stats().duplicates} dropped by the stream's dedup window, the others delivered;`,
    `                    ${duplicatesInProcess + paymentDuplicates} deliveries absorbed by idempotency keys (those, and redeliveries after the SIGKILL)`,
    `  crash             payment process ${killedPid} SIGKILLed mid-stream and restarted; no charge lost or repeated`,
    `  dead letters      ${deadLetters.length} dead-lettered, ${redriven} redriven after the fix`,
    `  replay            projection rebuilt from ${rebuilt.applied} events in ${rebuildMs.toFixed(0)} ms`,
    ...checks.map(([what, pass]) => `  ${pass ? "ok  " : "FAIL"} ${what}`),
    `${ok ? "all checks hold" : "SOME CHECKS FAILED"} (${elapsed()} s)`,
  ];
  process.stdout.write(out.join("\n") + "\n");

  if (values["keep-running"]) {
    process.stdout.write(
      `\nstill running: NATS ${server.url}, registry ${registry.url}. Try: NATS_URL=${server.url} npm run chronicle -- groups list orders\nCtrl-C stops.\n`,
    );
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  }
} finally {
  clearInterval(lagTimer);
  progress.stop();
  if (payments.exitCode === null && payments.signalCode === null) {
    payments.kill("SIGTERM");
    await new Promise((resolve) => payments.once("exit", resolve));
  }
  await Promise.all([...identity.members.map((m) => m.stop()), inventory.stop(), live.member.stop(), checkoutRelay.stop(), signup.close()]);
  await ordersDb.close();
}
client.close();
await registry.close();
await conn.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;
