import { describe, expect, it } from "vitest";
import { fastAckSequence, pubAckPrefix } from "./pub-ack.js";

const enc = new TextEncoder();

describe("fast PubAck reading", () => {
  const prefix = pubAckPrefix("ORDERS");
  const read = (s: string) => fastAckSequence(enc.encode(s), prefix);

  it("reads the sequence, negated for a duplicate", () => {
    expect(read('{"stream":"ORDERS","seq":1}')).toBe(1);
    expect(read('{"stream":"ORDERS","seq":9007199254740991}')).toBe(9007199254740991);
    expect(read('{"stream":"ORDERS","seq":42,"duplicate":true}')).toBe(-42);
  });

  it("leaves every other shape to the JSON parser (0)", () => {
    for (const s of [
      '{"stream":"OTHER","seq":1}',
      '{"stream":"ORDERS","seq":0}',
      '{"stream":"ORDERS","seq":}',
      '{"stream":"ORDERS","seq":12',
      '{"stream":"ORDERS","seq":12,"domain":"hub"}',
      '{"stream":"ORDERS","seq":12,"duplicate":false}',
      '{"stream":"ORDERS","seq":99999999999999999}',
      '{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"}}',
      "",
    ])
      expect(read(s), s).toBe(0);
  });
});
