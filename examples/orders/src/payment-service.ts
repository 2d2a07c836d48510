// The payment service: charges each order once. It handles OrderPlaced in
// consumer group "payments"; the charge, the inbox record of the event's
// idempotency key (its payment_id) and the PaymentCaptured event are written
// in one SQLite transaction, so a crash at any point leaves all three or
// none, and a redelivered or resubmitted OrderPlaced never charges twice.
import { createInbox, createOutbox, startRelay, type Relay, type SqliteDatabase } from "@chronicle/outbox";
import type { ChronicleConnection, ConsumerGroupMember } from "@chronicle/runtime";
import { ordersStream, partialOrdersHandlers, startOrdersConsumer } from "./gen/shop/orders/v1/orders_chronicle.js";

/** A running payment service. */
export interface PaymentService {
  readonly member: ConsumerGroupMember;
  readonly relay: Relay;
  /** Charges made (one row per charge call to the payment provider). */
  charges(): number;
  /** Charges made more than once for the same payment id: must stay 0. */
  doubleCharges(): number;
  stop(): Promise<void>;
}

/** Options of {@link startPaymentService}. */
export interface PaymentServiceOptions {
  /** Consumer group; default "payments". */
  group?: string;
  /** Failover bound of the group (see docs/consumer-groups.md); default 10 s. */
  failoverMs?: number;
}

/** Starts the payment service on `db` (its own database) and `conn`. */
export async function startPaymentService(conn: ChronicleConnection, db: SqliteDatabase, options: PaymentServiceOptions = {}): Promise<PaymentService> {
  const group = options.group ?? "payments";
  // The payment provider's ledger: one row per charge call, deliberately not
  // unique, so that a double charge would show up instead of failing.
  db.exec("CREATE TABLE IF NOT EXISTS charges (payment_id TEXT NOT NULL, order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, charged_at INTEGER NOT NULL)");
  const outbox = createOutbox(db);
  await outbox.migrate();
  const inbox = createInbox(db, { consumer: group });
  const captured = outbox.producer(ordersStream);
  const charge = db.prepare("INSERT INTO charges (payment_id, order_id, amount_cents, charged_at) VALUES (?, ?, ?, ?)");
  // a restarted service takes the relay lease over from a dead one after leaseMs
  const relay = await startRelay(outbox, conn, { pollIntervalMs: 20, leaseMs: 3000 });
  const member = await startOrdersConsumer(conn, {
    group,
    ...(options.failoverMs ? { failoverMs: options.failoverMs } : {}),
    handlers: partialOrdersHandlers({
      // ctx.idempotencyKey is the payment_id (idempotency_key in orders.proto)
      OrderPlaced: inbox.handler((order, _ctx, tx) => {
        charge.run(order.paymentId, order.orderId, order.totalCents, Date.now());
        captured.publish(tx, "PaymentCaptured", { orderId: order.orderId, paymentId: order.paymentId, amountCents: order.totalCents });
      }),
    }),
  });
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    member,
    relay,
    charges: () => count("SELECT count(*) AS n FROM charges"),
    doubleCharges: () => count("SELECT count(*) - count(DISTINCT payment_id) AS n FROM charges"),
    async stop() {
      await member.stop();
      await relay.stop();
    },
  };
}
