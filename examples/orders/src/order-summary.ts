// The order-summary projection: each order's status and totals, built from
// the orders stream. The same reducer runs live in consumer group
// "order-summary" and over the whole history with a replay reader, which
// is how the projection is rebuilt after a change or a loss.
import { replay, type ChronicleConnection, type ConsumerGroupMember } from "@chronicle/runtime";
import { ordersHandlers, ordersStream, startOrdersConsumer, type OrdersEvent, type OrdersEvents } from "./gen/shop/orders/v1/orders_chronicle.js";

/** One order as the projection sees it. */
export interface OrderRow {
  status: "placed" | "paid" | "shipped";
  totalCents: bigint;
  paidCents: bigint;
  /** Stream sequence of the last event applied. */
  sequence: number;
}

/** The projection: rows by order id, plus what it noticed. */
export interface OrderSummary {
  orders: Map<string, OrderRow>;
  /** Events of a key that arrived out of the key's stream order, or before the order they need (must be 0). */
  orderViolations: number;
  /** Events applied (duplicates of an already applied sequence are not). */
  applied: number;
}

/** An empty projection. */
export function emptySummary(): OrderSummary {
  return { orders: new Map(), orderViolations: 0, applied: 0 };
}

/**
 * A stream event by name, as handlers and the replay reader decode it. Built
 * from the generated event map, so an event type added to the stream is one
 * of them at once (the reducer ignores those it does not know).
 */
export type OrderEvent = { [K in keyof OrdersEvents]: { name: K; event: OrdersEvent<K> } }[keyof OrdersEvents];

const rank = { placed: 0, paid: 1, shipped: 2 } as const;

/**
 * Applies one event, stored at `sequence`, to the projection. Idempotent
 * (an event at or below the order's last applied sequence is ignored) and
 * checks per-key order: a later event of an order must come after the
 * earlier ones, and an order is paid or shipped only once it was placed.
 */
export function applyOrderEvent(s: OrderSummary, e: OrderEvent, sequence: number): void {
  const row = s.orders.get(e.event.orderId);
  if (row && sequence <= row.sequence) return;
  s.applied++;
  switch (e.name) {
    case "OrderPlaced":
      // a resubmitted OrderPlaced of a known order changes nothing
      if (!row) s.orders.set(e.event.orderId, { status: "placed", totalCents: e.event.totalCents, paidCents: 0n, sequence });
      else row.sequence = sequence;
      return;
    case "PaymentCaptured":
    case "OrderShipped": {
      if (!row) {
        s.orderViolations++;
        return;
      }
      const status = e.name === "PaymentCaptured" ? "paid" : "shipped";
      if (rank[status] < rank[row.status]) s.orderViolations++;
      else row.status = status;
      if (e.name === "PaymentCaptured") row.paidCents = e.event.amountCents;
      row.sequence = sequence;
    }
  }
}

/** Counts of a projection, for comparing two of them. */
export function summaryTotals(s: OrderSummary): { orders: number; placed: number; paid: number; shipped: number; revenueCents: bigint } {
  let placed = 0;
  let paid = 0;
  let shipped = 0;
  let revenueCents = 0n;
  for (const row of s.orders.values()) {
    if (row.status === "placed") placed++;
    else if (row.status === "paid") paid++;
    else shipped++;
    revenueCents += row.paidCents;
  }
  return { orders: s.orders.size, placed, paid, shipped, revenueCents };
}

/** Keeps a projection up to date in consumer group "order-summary". */
export async function startOrderSummary(
  conn: ChronicleConnection,
  summary: OrderSummary = emptySummary(),
): Promise<{ member: ConsumerGroupMember; summary: OrderSummary }> {
  const member = await startOrdersConsumer(conn, {
    group: "order-summary",
    handlers: ordersHandlers({
      async OrderPlaced(event, ctx) {
        applyOrderEvent(summary, { name: "OrderPlaced", event }, ctx.sequence);
      },
      async PaymentCaptured(event, ctx) {
        applyOrderEvent(summary, { name: "PaymentCaptured", event }, ctx.sequence);
      },
      async OrderShipped(event, ctx) {
        applyOrderEvent(summary, { name: "OrderShipped", event }, ctx.sequence);
      },
    }),
  });
  return { member, summary };
}

/** Rebuilds the projection from the first stored event with a replay reader (no consumer group involved). */
export async function rebuildOrderSummary(conn: ChronicleConnection): Promise<OrderSummary> {
  const summary = emptySummary();
  for await (const e of replay(conn, ordersStream)) applyOrderEvent(summary, e, e.meta.sequence);
  return summary;
}
