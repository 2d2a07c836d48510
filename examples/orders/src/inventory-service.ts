// The warehouse: reserves stock for each OrderPlaced (consumer group
// "inventory") and ships an order once it is both reserved and paid, by
// publishing OrderShipped with the dedup key `shipped:<order_id>`: if the
// handler runs twice (a redelivery in the window between its effect and its
// idempotency record), the stream keeps one OrderShipped. An order with a
// SKU the catalog does not know cannot be reserved: the handler throws a
// NonRetryableError and the event goes to the dead-letter stream at once.
import { NonRetryableError, type ChronicleConnection, type ConsumerGroupMember } from "@chronicle/runtime";
import { createOrdersProducer, ordersHandlers, startOrdersConsumer, type OrdersProducer } from "./gen/shop/orders/v1/orders_chronicle.js";

/** A running warehouse. */
export interface InventoryService {
  readonly member: ConsumerGroupMember;
  /** SKUs the warehouse stocks; add one to fix orders that were dead-lettered for it. */
  readonly catalog: Set<string>;
  /** Units reserved per SKU. */
  readonly reserved: Map<string, number>;
  /** Orders shipped by this process. */
  shipped(): number;
  stop(): Promise<void>;
}

/** Starts the warehouse's consumer and its OrderShipped producer. */
export async function startInventoryService(
  conn: ChronicleConnection,
  catalog: Iterable<string>,
  options: { failoverMs?: number } = {},
): Promise<InventoryService> {
  const skus = new Set(catalog);
  const reserved = new Map<string, number>();
  const reservedOrders = new Set<string>();
  const paidOrders = new Set<string>();
  const shippedOrders = new Set<string>();
  const producer: OrdersProducer = createOrdersProducer(conn);

  const shipIfReady = async (orderId: string) => {
    if (!reservedOrders.has(orderId) || !paidOrders.has(orderId)) return;
    await producer.publishOrderShipped({ orderId, carrier: "parcelco", trackingNumber: `T-${orderId}` }, { dedupKey: `shipped:${orderId}` });
    shippedOrders.add(orderId);
  };

  const member = await startOrdersConsumer(conn, {
    group: "inventory",
    ...(options.failoverMs ? { failoverMs: options.failoverMs } : {}),
    handlers: ordersHandlers({
      async OrderPlaced(order) {
        const unknown = order.items.find((i) => !skus.has(i.sku));
        if (unknown) throw new NonRetryableError(`unknown SKU "${unknown.sku}" in order ${order.orderId}`);
        for (const i of order.items) reserved.set(i.sku, (reserved.get(i.sku) ?? 0) + i.quantity);
        reservedOrders.add(order.orderId);
        await shipIfReady(order.orderId);
      },
      async PaymentCaptured(payment) {
        paidOrders.add(payment.orderId);
        await shipIfReady(payment.orderId);
      },
      async OrderShipped() {},
    }),
  });
  return {
    member,
    catalog: skus,
    reserved,
    shipped: () => shippedOrders.size,
    async stop() {
      await member.stop();
      await producer.close();
    },
  };
}
