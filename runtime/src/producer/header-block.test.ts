import { describe, expect, it } from "vitest";
import { HeaderBlockWriter, headerPrefix } from "./header-block.js";

const dec = new TextDecoder();

/** Writes `prefix`, `lines` and the closing CR LF as the producer does; returns the block's bytes. */
function writeBlock(w: HeaderBlockWriter, prefix: Uint8Array, lines: string): Uint8Array {
  w.reserve(prefix.length + lines.length * 3 + 2);
  const start = w.pos;
  w.putBytes(prefix);
  w.putText(lines);
  w.crlf();
  return w.bytes.subarray(start, w.pos);
}

describe("header blocks written into slabs", () => {
  it("writes prefix, lines and the closing CR LF, UTF-8 included, and never overwrites an earlier block", () => {
    const w = new HeaderBlockWriter();
    const prefix = headerPrefix("ce-specversion: 1.0\r\n");
    const blocks: [Uint8Array, string][] = [];
    // enough blocks to fill several slabs, some with multi-byte characters
    for (let i = 0; i < 5000; i++) {
      const lines = `ce-id: ${i}\r\nce-partitionkey: ${i % 7 === 0 ? "日本語🙂é" : `k${i}`}${"x".repeat(i % 300)}\r\n`;
      blocks.push([writeBlock(w, prefix, lines), `NATS/1.0\r\nce-specversion: 1.0\r\n${lines}\r\n`]);
    }
    for (const [bytes, text] of blocks) expect(dec.decode(bytes)).toBe(text);
  });

  it("copies byte arrays short and long beside the blocks", () => {
    const w = new HeaderBlockWriter();
    const kept: [Uint8Array, number][] = [];
    for (let i = 0; i < 600; i++) {
      const bytes = new Uint8Array(i % 500).fill(i % 251);
      writeBlock(w, headerPrefix(""), `n: ${i}\r\n`);
      w.reserve(bytes.length);
      const start = w.pos;
      w.putBytes(bytes);
      kept.push([w.bytes.subarray(start, w.pos), i]);
    }
    for (const [bytes, i] of kept) expect(bytes).toEqual(new Uint8Array(i % 500).fill(i % 251));
  });

  it("takes a block larger than a slab", () => {
    const w = new HeaderBlockWriter();
    const lines = `big: ${"y".repeat(300_000)}\r\n`;
    expect(dec.decode(writeBlock(w, headerPrefix(""), lines))).toBe(`NATS/1.0\r\n${lines}\r\n`);
  });
});
