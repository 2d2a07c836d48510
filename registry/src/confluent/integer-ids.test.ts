import { describe, expect, it } from "vitest";
import { openRegistry } from "../service/registry.js";
import { createMemoryStore } from "../storage/memory-store.js";
import { createIntegerIds } from "./integer-ids.js";

const id = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

describe("integer ids", () => {
  it("gives distinct numbers to distinct schemas and one number to one schema, whichever of two registries sharing a store assigns it, in any interleaving", async () => {
    const store = createMemoryStore();
    const [a, b] = await Promise.all([openRegistry({ store }), openRegistry({ store })]);
    try {
      const ia = createIntegerIds(a.edgeRecords);
      const ib = createIntegerIds(b.edgeRecords);
      const got = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? ia : ib).assign(id(i % 20), [])));
      for (let i = 0; i < 20; i++) expect(got[i]).toBe(got[i + 20]);
      expect(new Set(got).size).toBe(20);
      for (let i = 0; i < 20; i++) {
        expect(ia.lookup(got[i]!)?.schemaId).toBe(id(i));
        expect(ib.numberOf(id(i))).toBe(got[i]);
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it("settles a number a server claimed and then stopped before settling, instead of claiming another", async () => {
    const store = createMemoryStore();
    const r = await openRegistry({ store });
    try {
      // what a server leaves when it stops between the two steps: a claim without the schema's number
      await r.edgeRecords.create("edge.confluent.ids.7", new TextEncoder().encode(JSON.stringify({ schemaId: id(1), references: [] })));
      const ids = createIntegerIds(r.edgeRecords);
      expect(ids.lookup(7)).toBeUndefined(); // never answered before it is settled
      expect(await ids.assign(id(1), [])).toBe(7);
      expect(ids.lookup(7)?.schemaId).toBe(id(1));
      expect(await ids.assign(id(2), [])).toBe(8);
    } finally {
      r.close();
    }
  });

  it("takes a wanted number (imports) only when it is free or already the schema's", async () => {
    const r = await openRegistry({ store: createMemoryStore() });
    try {
      const ids = createIntegerIds(r.edgeRecords);
      expect(await ids.assign(id(1), [], 100)).toBe(100);
      expect(await ids.assign(id(1), [], 100)).toBe(100);
      await expect(ids.assign(id(2), [], 100)).rejects.toThrow(/already belongs to another schema/);
      await expect(ids.assign(id(1), [], 101)).rejects.toThrow(/already has id 100/);
      expect(await ids.assign(id(2), [])).toBe(101);
    } finally {
      r.close();
    }
  });
});
