import { describe, expect, it } from "vitest";
import { HeaderBlockWriter, headerPrefix } from "./header-block.js";
import { frameHeadRoom, writeFrameHead } from "./frame.js";
import { fastAckSequence, pubAckPrefix } from "./pub-ack.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("header blocks written into slabs", () => {
  it("writes prefix, lines and the closing CRLF, UTF-8 included, and never overwrites an earlier block", () => {
    const w = new HeaderBlockWriter();
    const prefix = headerPrefix("ce-specversion: 1.0\r\n");
    const blocks: [Uint8Array, string][] = [];
    // enough blocks to fill several slabs, some with multi-byte characters
    for (let i = 0; i < 5000; i++) {
      const lines = `ce-id: ${i}\r\nce-partitionkey: ${i % 7 === 0 ? "日本語🙂é" : `k${i}`}${"x".repeat(i % 300)}\r\n`;
      blocks.push([w.write(prefix, lines), `NATS/1.0\r\nce-specversion: 1.0\r\n${lines}\r\n`]);
    }
    for (const [bytes, text] of blocks) expect(dec.decode(bytes)).toBe(text);
  });

  it("keeps small payloads as copies beside the blocks, large ones as they are", () => {
    const w = new HeaderBlockWriter();
    const kept: [Uint8Array, number][] = [];
    for (let i = 0; i < 600; i++) {
      const bytes = new Uint8Array(i % 500).fill(i % 251);
      w.write(headerPrefix(""), `n: ${i}\r\n`);
      kept.push([w.keep(bytes), i]);
    }
    for (const [bytes, i] of kept) expect(bytes).toEqual(new Uint8Array(i % 500).fill(i % 251));
    const large = new Uint8Array(100_000);
    expect(w.keep(large)).toBe(large);
  });

  it("takes a block larger than a slab", () => {
    const w = new HeaderBlockWriter();
    const lines = `big: ${"y".repeat(300_000)}\r\n`;
    expect(dec.decode(w.write(headerPrefix(""), lines))).toBe(`NATS/1.0\r\n${lines}\r\n`);
  });
});

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

describe("frame heads", () => {
  it("writes the HPUB line nats.js would, ending where it is told, within frameHeadRoom", () => {
    const prefix = enc.encode("HPUB orders.OrderPlaced.k1 ");
    const reply = enc.encode("_INBOX.abc.");
    const room = frameHeadRoom(prefix, reply);
    for (const [token, hlen, total] of [
      [1, 0, 0],
      [10, 9, 10],
      [Number.MAX_SAFE_INTEGER, 4_294_967_295, 4_294_967_295],
      [123456789, 230, 358],
    ]) {
      const out = new Uint8Array(room + 10).fill(0xee);
      const start = writeFrameHead(out, room + 5, prefix, reply, token!, hlen!, total!);
      expect(start).toBeGreaterThanOrEqual(5);
      expect(dec.decode(out.subarray(start, room + 5))).toBe(`HPUB orders.OrderPlaced.k1 _INBOX.abc.${token} ${hlen} ${total}\r\n`);
      expect(out[start - 1]).toBe(0xee);
      expect(out[room + 5]).toBe(0xee);
    }
  });
});
