import { describe, expect, it } from "vitest";
import { readDeliveryInfo } from "./delivery-info.js";

describe("reading a delivery's ack subject", () => {
  it("reads both forms the server sends, as nats.js does", () => {
    // (a time in nanoseconds is beyond a double's exact integers: compared in milliseconds)
    const ms = (info: { timestampNanos: number } | undefined) => Math.floor((info?.timestampNanos ?? 0) / 1e6);
    const old = readDeliveryInfo("$JS.ACK.orders.g-3.2.1045.1039.1764120000123456789.17");
    expect(old).toMatchObject({ deliveryCount: 2, streamSequence: 1045, consumerSequence: 1039, pending: 17 });
    expect(ms(old)).toBe(1764120000123);
    const withDomain = readDeliveryInfo("$JS.ACK.hub.ACCHASH.orders.g-3.1.7.7.1764120000123456789.0.rAnd0m");
    expect(withDomain).toMatchObject({ deliveryCount: 1, streamSequence: 7, consumerSequence: 7, pending: 0 });
    expect(ms(withDomain)).toBe(1764120000123);
  });

  it("is undefined for anything else", () => {
    for (const bad of ["", "_INBOX.x.y", "$JS.ACK.orders.g.1.2.3.4", "$JS.ACK.orders.g.x.2.3.4.5", "$JS.ACK.orders.g.1.2.3.4.", "$JS.API.orders.g.1.2.3.4.5"]) {
      expect(readDeliveryInfo(bad), bad).toBeUndefined();
    }
  });
});
