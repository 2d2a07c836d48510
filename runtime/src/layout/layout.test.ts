import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { keyFromToken, keyToken } from "./key-token.js";
import { fnv1a32, partitionOf } from "./partition.js";
import { layout } from "./subjects.js";

// The vectors of docs/keys-and-ordering.md: another language's
// implementation must produce the same tokens, hashes and partitions.
const x128 = "x".repeat(128);
const VECTORS: { key: string; token: string; fnv: number; p8: number; p16: number; p1024: number }[] = [
  { key: "order-1", token: "order-1", fnv: 729795949, p8: 5, p16: 13, p1024: 365 },
  { key: "a", token: "a", fnv: 3826002220, p8: 4, p16: 12, p1024: 300 },
  { key: "A_b-9", token: "A_b-9", fnv: 1785858423, p8: 7, p16: 7, p1024: 375 },
  { key: "a.b", token: "~YS5i", fnv: 2283614351, p8: 7, p16: 15, p1024: 143 },
  { key: "with space", token: "~d2l0aCBzcGFjZQ", fnv: 1190329580, p8: 4, p16: 12, p1024: 236 },
  { key: "*", token: "~Kg", fnv: 103168379, p8: 3, p16: 11, p1024: 379 },
  { key: ">", token: "~Pg", fnv: 3593942796, p8: 4, p16: 12, p1024: 780 },
  { key: "a.*.>", token: "~YS4qLj4", fnv: 3669352964, p8: 4, p16: 4, p1024: 516 },
  { key: "ünïcödé", token: "~w7xuw69jw7Zkw6k", fnv: 3608894367, p8: 7, p16: 15, p1024: 927 },
  { key: "日本語", token: "~5pel5pys6Kqe", fnv: 1276675681, p8: 1, p16: 1, p1024: 609 },
  { key: "🙂", token: "~8J-Zgg", fnv: 2660712374, p8: 6, p16: 6, p1024: 950 },
  { key: "", token: "~", fnv: 4211887457, p8: 1, p16: 1, p1024: 353 },
  { key: x128, token: x128, fnv: 794728389, p8: 5, p16: 5, p1024: 965 },
  { key: "x".repeat(129), token: "=DsnrM-dFELzdHy6lUgboLyFknFwr7L8rQz60dbNMAb0", fnv: 1809517867, p8: 3, p16: 11, p1024: 299 },
  { key: "é".repeat(48), token: `~${"w6nDqcOp".repeat(16)}`, fnv: 3802712289, p8: 1, p16: 1, p1024: 225 },
  { key: "é".repeat(49), token: "=OlIrDEtjTvNf1A9KLzsm4_oXQ4fFS9j1CJU2vbywyi4", fnv: 941607591, p8: 7, p16: 7, p1024: 679 },
  { key: "~tilde", token: "~fnRpbGRl", fnv: 526953962, p8: 2, p16: 10, p1024: 490 },
  { key: "=eq", token: "~PWVx", fnv: 2326539250, p8: 2, p16: 2, p1024: 1010 },
];

/** Deterministic pseudo-random keys (mulberry32), so a failure is reproducible. */
function randomKeys(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_. é日";
  // distinct keys: a repeated key is one key, and would only weigh its partition
  const keys = new Set<string>();
  while (keys.size < count) {
    const len = 4 + Math.floor(next() * 28);
    let k = "";
    for (let i = 0; i < len; i++) k += alphabet[Math.floor(next() * alphabet.length)];
    keys.add(k);
  }
  return [...keys];
}

function chiSquare(counts: number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe("key tokens and partitions", () => {
  it.each(VECTORS)("vector $token", (v) => {
    expect(keyToken(v.key)).toBe(v.token);
    expect(fnv1a32(Buffer.from(v.token, "utf8"))).toBe(v.fnv);
    expect(partitionOf(v.key, 8)).toBe(v.p8);
    expect(partitionOf(v.key, 16)).toBe(v.p16);
    expect(partitionOf(v.key, 1024)).toBe(v.p1024);
    expect(partitionOf(v.key, 1)).toBe(0);
  });

  it("FNV-1a 32 matches its published test values", () => {
    expect(fnv1a32(new Uint8Array())).toBe(0x811c9dc5);
    expect(fnv1a32(Buffer.from("a"))).toBe(0xe40c292c);
    expect(fnv1a32(Buffer.from("foobar"))).toBe(0xbf9cf968);
  });

  it("makes one safe subject token of any key, reversibly unless hashed", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (key) => {
        const t = keyToken(key);
        expect(t).toMatch(/^[A-Za-z0-9_=~-]+$/);
        expect(t.length).toBeLessThanOrEqual(129);
        if (!t.startsWith("=")) expect(keyFromToken(t)).toBe(key);
        expect(layout.parseStored(`S.3.Ev.${t}`)?.keyToken).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });

  it("reads a stored subject's four parts, and nothing else", () => {
    expect(layout.parseStored("orders.12.OrderPlaced.k-1")).toEqual({ stream: "orders", partition: 12, eventName: "OrderPlaced", keyToken: "k-1" });
    for (const bad of ["orders.12.OrderPlaced", "orders.12.OrderPlaced.k.x", "orders..OrderPlaced.k", "orders.1a.OrderPlaced.k", "orders", ""]) {
      expect(layout.parseStored(bad), bad).toBeUndefined();
    }
  });

  it("spreads 100k random keys evenly (chi-square within 5 standard deviations)", () => {
    const keys = randomKeys(100_000, 42);
    for (const n of [8, 16, 64, 256]) {
      const counts = new Array<number>(n).fill(0);
      for (const k of keys) counts[partitionOf(k, n)]!++;
      const df = n - 1;
      const chi = chiSquare(counts, keys.length);
      expect(chi, `chi-square over ${n} partitions`).toBeLessThan(df + 5 * Math.sqrt(2 * df));
      expect(Math.min(...counts)).toBeGreaterThan(0);
    }
  });

  it("spreads 100k sequential keys (order-0 ... order-99999) evenly up to 64 partitions, within 25% at 256", () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `order-${i}`);
    for (const n of [8, 16, 64, 256]) {
      const counts = new Array<number>(n).fill(0);
      for (const k of keys) counts[partitionOf(k, n)]!++;
      const df = n - 1;
      const mean = keys.length / n;
      if (n <= 64) expect(chiSquare(counts, keys.length), `chi-square over ${n} partitions`).toBeLessThan(df + 5 * Math.sqrt(2 * df));
      // FNV-1a's low bits keep some of the structure of sequential keys: at 256
      // partitions the spread is measurably uneven (see docs/keys-and-ordering.md)
      else expect(Math.max(...counts.map((c) => Math.abs(c - mean))) / mean).toBeLessThan(0.25);
    }
  });

  it("agrees with the server's {{partition(N,2)}} transform", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const keys = [...VECTORS.map((v) => v.key), ...randomKeys(500, 7)];
    for (const n of [16, 1024]) {
      const name = `vec${n}`;
      await conn.jsm.streams.add({
        name,
        subjects: [layout.inputFilter(name)],
        subject_transform: { src: layout.inputFilter(name), dest: layout.transformDest(name, n) },
      });
      await Promise.all(keys.map((k) => conn.js.publish(layout.publishSubject(name, "Ev", k), new Uint8Array())));
      const consumer = await conn.js.consumers.get(name);
      const stored = new Map<string, number>();
      const msgs = await consumer.fetch({ max_messages: keys.length, expires: 10_000 });
      for await (const m of msgs) {
        const p = layout.parseStored(m.subject)!;
        stored.set(p.keyToken, p.partition);
        if (stored.size === keys.length) break;
      }
      for (const k of keys) expect(stored.get(keyToken(k)), `key ${JSON.stringify(k)} over ${n}`).toBe(partitionOf(k, n));
    }
  });
});
