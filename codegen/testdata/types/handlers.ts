// Type-level tests of generated code, compiled by tsc in codegen's tests
// (plugin/generated-code.test.ts). Each @ts-expect-error must be an error.
import type { ChronicleConnection } from "@chronicle/runtime";
import {
  createOrdersProducer,
  ordersHandlers,
  ordersStream,
  partialOrdersHandlers,
  type OrdersEvent,
  type OrdersHandlers,
} from "../gen/acme/orders/v1/orders_chronicle.js";

export const complete: OrdersHandlers = ordersHandlers({
  async OrderPlaced(event, ctx) {
    const id: string = event.orderId;
    const total: bigint = event.totalCents;
    void [id, total, ctx.sequence];
  },
  async OrderShipped(event) {
    const carrier: string | undefined = event.carrier;
    void carrier;
  },
});

// @ts-expect-error the exhaustive form rejects a missing handler (OrderShipped)
ordersHandlers({ async OrderPlaced() {} });

// @ts-expect-error the exhaustive form rejects an event the stream does not have
ordersHandlers({ async OrderPlaced() {}, async OrderShipped() {}, async OrderCancelled() {} });

export const partial = partialOrdersHandlers({ async OrderShipped() {} });

partialOrdersHandlers({
  // @ts-expect-error handlers receive the decoded event of their own type
  async OrderShipped(event: OrdersEvent<"OrderPlaced">) {
    void event;
  },
});

export async function publishes(conn: ChronicleConnection): Promise<void> {
  const producer = createOrdersProducer(conn);
  await producer.publishOrderPlaced(
    { orderId: "o-1", totalCents: 1200n, customer: { id: "c-1" } },
    { dedupKey: "checkout-1", headers: { a: "b" }, expectedLastSequence: 0 },
  );
  // @ts-expect-error unknown fields are rejected
  await producer.publishOrderShipped({ orderId: "o-1", nope: 1 });
  // @ts-expect-error there is no method for an event the stream does not have
  await producer.publishOrderCancelled({});
  const key: string = ordersStream.events.OrderShipped.key({ $typeName: "acme.orders.v1.OrderShipped", orderId: "o", carrier: "x" });
  void key;
}
