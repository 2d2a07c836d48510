import { describe, expect, it } from "vitest";
import { frameHeadRoom, writeFrameHead } from "./frame-head.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

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
