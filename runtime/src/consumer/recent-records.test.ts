import { describe, expect, it } from "vitest";
import { RecentRecords } from "./recent-records.js";

describe("RecentRecords", () => {
  it("completes a lookup issued before a record of the same key was confirmed, and only such a lookup", () => {
    const r = new RecentRecords();
    const early = r.stamp();
    r.handled("a");
    // in flight: any lookup, even one issued now, may miss it
    expect(r.doneSince("a", early)).toBe(true);
    expect(r.doneSince("a", r.stamp())).toBe(true);
    r.recorded("a");
    expect(r.doneSince("a", early)).toBe(true);
    // a lookup issued after the confirmation sees the record itself: the store's answer stands
    expect(r.doneSince("a", r.stamp())).toBe(false);
    expect(r.doneSince("b", early)).toBe(false);
  });

  it("forgets the oldest confirmed keys beyond its limit and says which lookups can no longer be completed", () => {
    const r = new RecentRecords(3);
    const s0 = r.stamp();
    r.handled("inflight");
    for (const k of ["a", "b", "c", "d", "e"]) {
      r.handled(k);
      r.recorded(k);
    }
    expect(r.size).toBeLessThanOrEqual(4); // 3 confirmed + the one in flight, never forgotten
    expect(r.doneSince("inflight", s0)).toBe(true);
    expect(r.doneSince("a", s0)).toBe(false);
    expect(r.stale(s0)).toBe(true);
    expect(r.stale(r.stamp())).toBe(false);
  });

  it("stays bounded over many keys", () => {
    const r = new RecentRecords(100);
    for (let i = 0; i < 50_000; i++) {
      r.handled(`k${i}`);
      r.recorded(`k${i}`);
    }
    expect(r.size).toBe(100);
  });
});
