import { connect, ensureStream } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";
import {
  createOrdersProducer,
  ordersHandlers,
  ordersStream,
  startOrdersConsumer,
  type OrdersEvent,
} from "../../testdata/gen/acme/orders/v1/orders_chronicle.js";

describe("generated producer and consumer against nats-server", () => {
  it("publishes with the typed producer and handles every event once with the typed consumer", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await ensureStream(conn, ordersStream);

    const producer = createOrdersProducer(conn);
    const placed = await producer.publishOrderPlaced({ orderId: "o-1", requestId: "req-1", totalCents: 1999n, customer: { id: "c-1" } });
    const again = await producer.publishOrderPlaced({ orderId: "o-1", requestId: "req-1", totalCents: 1999n });
    expect(again).toMatchObject({ duplicate: true, sequence: placed.sequence, dedupKey: "req-1" });
    await producer.publishOrderShipped({ orderId: "o-1", customer: { id: "c-1" }, carrier: "ups" });
    await producer.publishOrderShipped({ orderId: "o-2" }, { dedupKey: "ship-o-2", headers: { "x-test": "1" } });
    await producer.close();

    const seen: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const record = (line: string) => {
      seen.push(line);
      if (seen.length === 3) done();
    };
    const member = await startOrdersConsumer(conn, {
      group: "billing",
      handlers: ordersHandlers({
        async OrderPlaced(event: OrdersEvent<"OrderPlaced">, ctx) {
          record(`placed ${event.orderId} ${event.totalCents} key=${ctx.key}`);
        },
        async OrderShipped(event, ctx) {
          record(`shipped ${event.orderId} ${event.carrier ?? "-"} key=${JSON.stringify(ctx.key)} ${ctx.headers["x-test"] ?? ""}`.trim());
        },
      }),
    });
    try {
      await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out; seen ${JSON.stringify(seen)}`)), 20_000))]);
    } finally {
      await member.stop();
    }
    expect(seen.sort()).toEqual(["placed o-1 1999 key=o-1", 'shipped o-1 ups key="c-1"', 'shipped o-2 - key="" 1']);
  });
});
