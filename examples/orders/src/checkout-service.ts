// The checkout service: writes the order and its OrderPlaced event in one
// SQLite transaction (the transactional outbox of @chronicle/outbox) and
// returns. A relay publishes the outbox rows to the "orders" stream after
// commit, in commit order per order, with the row's dedup key.
import { randomUUID } from "node:crypto";
import { createOutbox, type SqliteDatabase, type SqliteOutbox } from "@chronicle/outbox";
import { ordersStream } from "./gen/shop/orders/v1/orders_chronicle.js";
import type { LineItem } from "./gen/shop/orders/v1/orders_pb.js";

/** What a customer submits. */
export interface CheckoutRequest {
  customerId: string;
  items: Pick<LineItem, "sku" | "quantity" | "unitPriceCents">[];
}

/** The order as the checkout wrote it. */
export interface PlacedOrder {
  orderId: string;
  paymentId: string;
  totalCents: bigint;
}

/** The checkout: `placeOrder` commits the order row and the event together. */
export interface CheckoutService {
  readonly outbox: SqliteOutbox;
  /** Writes the order and its OrderPlaced event in one transaction; returns once committed (before any consumer sees it). */
  placeOrder(request: CheckoutRequest): PlacedOrder;
  /**
   * Writes the OrderPlaced event of an existing order again, as a client
   * retry that reached the checkout twice would: a new event with the same
   * payment id. Its dedup key defaults to the payment id (the event's
   * idempotency key), so within the stream's duplicate window the stream
   * drops it; with `dedupKey` (a retry after the window) it is stored and
   * delivered, and consumers absorb it by the payment id.
   */
  resubmit(orderId: string, options?: { dedupKey?: string }): void;
  /** Orders in the database. */
  count(): number;
}

/** Creates the orders table and the outbox tables on `db` and returns the checkout. */
export async function createCheckoutService(db: SqliteDatabase): Promise<CheckoutService> {
  db.exec(`CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, payment_id TEXT NOT NULL,
    total_cents INTEGER NOT NULL, items TEXT NOT NULL, placed_at INTEGER NOT NULL)`);
  const outbox = createOutbox(db);
  await outbox.migrate();
  const orders = outbox.producer(ordersStream);
  const insert = db.prepare("INSERT INTO orders (order_id, customer_id, payment_id, total_cents, items, placed_at) VALUES (?, ?, ?, ?, ?, ?)");
  const select = db.prepare("SELECT customer_id, payment_id, total_cents, items FROM orders WHERE order_id = ?");
  const place = db.transaction((request: CheckoutRequest): PlacedOrder => {
    const orderId = `o-${randomUUID().slice(0, 8)}`;
    const paymentId = `pay-${randomUUID().slice(0, 8)}`;
    const totalCents = request.items.reduce((sum, i) => sum + BigInt(i.quantity) * i.unitPriceCents, 0n);
    insert.run(
      orderId,
      request.customerId,
      paymentId,
      totalCents,
      JSON.stringify(request.items, (_, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
      Date.now(),
    );
    orders.publish(db, "OrderPlaced", { orderId, customerId: request.customerId, items: request.items, totalCents, paymentId });
    return { orderId, paymentId, totalCents };
  });
  const resubmit = db.transaction((orderId: string, dedupKey?: string) => {
    const row = select.get(orderId) as { customer_id: string; payment_id: string; total_cents: number; items: string } | undefined;
    if (!row) throw new Error(`no order ${orderId}`);
    const items = (JSON.parse(row.items) as { sku: string; quantity: number; unitPriceCents: string }[]).map((i) => ({
      ...i,
      unitPriceCents: BigInt(i.unitPriceCents),
    }));
    orders.publish(
      db,
      "OrderPlaced",
      { orderId, customerId: row.customer_id, items, totalCents: BigInt(row.total_cents), paymentId: row.payment_id },
      dedupKey ? { dedupKey } : {},
    );
  });
  return {
    outbox,
    placeOrder: (request) => place.immediate(request),
    resubmit: (orderId, options) => resubmit.immediate(orderId, options?.dedupKey),
    count: () => (db.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n,
  };
}
