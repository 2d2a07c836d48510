import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openOutboxDatabase, startRelay, type SqliteDatabase } from "@chronicle/outbox";
import { connect, ensureStream, listDeadLetters, redriveDeadLetter } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";
import { createCheckoutService } from "./checkout-service.js";
import { ordersStream } from "./gen/shop/orders/v1/orders_chronicle.js";
import { startInventoryService } from "./inventory-service.js";
import { rebuildOrderSummary, startOrderSummary, summaryTotals } from "./order-summary.js";
import { startPaymentService } from "./payment-service.js";

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("orders example", () => {
  it("charges once per payment, ships every order, dead-letters and redrives the poison one, rebuilds the projection", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-orders-test-"));
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await ensureStream(conn, ordersStream);
    const ordersDb = openOutboxDatabase(join(dir, "orders.db"));
    const paymentsDb = openOutboxDatabase(join(dir, "payments.db"));
    const checkout = await createCheckoutService(ordersDb.db as SqliteDatabase);
    const relay = await startRelay(checkout.outbox, conn, { pollIntervalMs: 20 });
    const payments = await startPaymentService(conn, paymentsDb.db as SqliteDatabase);
    const inventory = await startInventoryService(conn, ["sku-a", "sku-b"]);
    const live = await startOrderSummary(conn);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const sku = i === 10 ? "sku-gone" : i % 2 ? "sku-a" : "sku-b";
        ids.push(checkout.placeOrder({ customerId: `c-${i % 3}`, items: [{ sku, quantity: 2, unitPriceCents: 250n }] }).orderId);
      }
      checkout.resubmit(ids[0]!); // same dedup key (the payment id): the stream drops it
      checkout.resubmit(ids[1]!, { dedupKey: "late-retry" }); // stored and delivered: absorbed by the payment id
      await until(() => summaryTotals(live.summary).shipped === 19);
      await until(() => relay.stats().duplicates === 1);
      expect(payments.charges()).toBe(20);
      expect(payments.doubleCharges()).toBe(0);
      expect(payments.member.metrics().duplicates).toBe(1);

      const dead = await listDeadLetters(conn, "orders");
      expect(dead.map((d) => [d.group, d.eventName, d.key, d.reason])).toEqual([["inventory", "OrderPlaced", ids[10], "non_retryable"]]);
      inventory.catalog.add("sku-gone");
      await redriveDeadLetter(conn, "orders", dead[0]!.dlqSequence);
      await until(() => live.summary.orders.get(ids[10]!)?.status === "shipped");
      expect(await listDeadLetters(conn, "orders")).toEqual([]);
      expect(inventory.reserved.get("sku-gone")).toBe(2);

      const rebuilt = await rebuildOrderSummary(conn);
      expect(summaryTotals(rebuilt)).toEqual(summaryTotals(live.summary));
      expect(summaryTotals(rebuilt)).toMatchObject({ orders: 20, shipped: 20, revenueCents: 20n * 500n });
      expect(rebuilt.orderViolations + live.summary.orderViolations).toBe(0);
    } finally {
      await Promise.all([payments.stop(), inventory.stop(), live.member.stop(), relay.stop()]);
      await ordersDb.close();
      await paymentsDb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
