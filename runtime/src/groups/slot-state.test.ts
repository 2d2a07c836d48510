import { describe, expect, it } from "vitest";
import { FloorTracker } from "./floor-tracker.js";
import { HandledKeys } from "./handled-keys.js";
import { replaySlot } from "./slot-state.js";
import type { SlotRecord } from "./state-records.js";

const owner = { member: "m", token: "t", consumer: "c", held: 0, write: 1 };

describe("FloorTracker", () => {
  it("moves the floor over settled events at the front only, whatever order they settle in", () => {
    const t = new FloorTracker(10);
    const [a, b, c] = [t.add(12), t.add(15), t.add(20)];
    t.settle(b);
    expect(t.floor).toBe(10);
    t.settle(a);
    expect(t.floor).toBe(15);
    expect(t.open).toBe(1);
    t.settle(c);
    expect(t.floor).toBe(20);
    t.settle(c); // twice: no effect
    expect(t.floor).toBe(20);
  });

  it("forgets what is not behind the floor on reset; positions handed out before stay harmless", () => {
    const t = new FloorTracker(0);
    const a = t.add(1);
    const b = t.add(2);
    t.settle(b);
    t.reset();
    expect(t.floor).toBe(0);
    t.settle(a);
    expect(t.floor).toBe(0);
    const c = t.add(1);
    t.settle(c);
    expect(t.floor).toBe(1);
  });

  it("keeps positions valid across its compaction", () => {
    const t = new FloorTracker(0);
    const positions = Array.from({ length: 5000 }, (_, i) => t.add(i + 1));
    for (const p of positions.slice(0, 4000)) t.settle(p);
    expect(t.floor).toBe(4000);
    const later = t.add(5001);
    for (const p of positions.slice(4000)) t.settle(p);
    t.settle(later);
    expect(t.floor).toBe(5001);
  });
});

describe("HandledKeys", () => {
  it("forgets keys older than the TTL and, beyond the count, the oldest", () => {
    const k = new HandledKeys({ ttlMs: 1000, perPartition: 3 });
    k.add("a", 100);
    k.add("b", 200);
    k.add("c", 300);
    expect([k.has("a", 300), k.has("c", 300)]).toEqual([true, true]);
    k.add("d", 400);
    expect(k.has("a", 400)).toBe(false);
    expect(k.size).toBe(3);
    expect(k.has("b", 1201)).toBe(false); // expired
    k.forget(1350);
    expect(k.size).toBe(1);
  });

  it("chunks the retained keys, oldest first, grouped by time, under a size", () => {
    const k = new HandledKeys({ ttlMs: 10_000, perPartition: 100 });
    for (let i = 0; i < 10; i++) k.add(`key-${i}`, 100 + Math.floor(i / 4));
    k.add("key-0", 500); // handled again later: counted once, at its later time
    const chunks = [...k.chunks(40)];
    expect(chunks.length).toBeGreaterThan(1);
    const flat = chunks.flat();
    expect(flat.flatMap(([, keys]) => keys)).toEqual(["key-1", "key-2", "key-3", "key-4", "key-5", "key-6", "key-7", "key-8", "key-9", "key-0"]);
    expect(flat.at(-1)).toEqual([500, ["key-0"]]);
  });
});

describe("replaySlot", () => {
  it("accumulates keys, dead letters and failing attempts; a rewind forgets what came before", () => {
    const records: SlotRecord[] = [
      { kind: "claim", ...owner, floor: 0, at: 1000 },
      { kind: "checkpoint", ...owner, floor: 5, at: 1000, keys: ["Note.a", "Note.b"], dead: [7], failing: [[9, 2, 900]] },
      { kind: "checkpoint", ...owner, floor: 8, at: 1001, keys: ["Note.c"] },
      { kind: "release", ...owner, floor: 8, at: 1002, failing: [[9, 3, 900]] },
      { kind: "claim", ...owner, token: "t2", consumer: "c2", floor: 8, at: 1003 },
    ];
    const s = replaySlot(records, { ttlMs: 60_000, perPartition: 100 }, 2000);
    expect(s.floor).toBe(8);
    expect(s.keys.size).toBe(3);
    expect(s.dead).toEqual(new Set()); // 7 is behind the floor
    expect([...s.failing.values()]).toEqual([[9, 3, 900]]);
    expect(s.consumers).toEqual(new Set(["c", "c2"]));

    const rewound = replaySlot([...records, { kind: "rewind", floor: 2, epoch: 1, at: 1004 }], { ttlMs: 60_000, perPartition: 100 }, 2000);
    expect(rewound.floor).toBe(2);
    expect(rewound.keys.size).toBe(0);
    expect(rewound.failing.size).toBe(0);
  });

  it("reads a snapshot's chunks as keys like any others, so a snapshot cut short loses nothing", () => {
    const records: SlotRecord[] = [
      { kind: "checkpoint", ...owner, floor: 3, at: 1000, keys: ["Note.a"] },
      { kind: "snapshot", ...owner, floor: 3, at: 1001, keysByTime: [[1000, ["Note.a"]]], dead: [], failing: [] },
      { kind: "checkpoint", ...owner, floor: 4, at: 1002, keys: ["Note.b"] },
    ];
    const s = replaySlot(records, { ttlMs: 60_000, perPartition: 100 }, 2000);
    expect([s.floor, s.keys.has("Note.a", 2000), s.keys.has("Note.b", 2000)]).toEqual([4, true, true]);
  });
});
