import { describe, expect, it } from "vitest";
import { createMemoryStore } from "./memory-store.js";
import { encodeJson, keys, type SubjectRecord } from "./records.js";
import { RegistryState } from "./registry-state.js";
import type { StoreChange } from "./store.js";

const S = "acme.orders.v1.OrderPlaced";
const record = (...ids: string[]): SubjectRecord => ({
  versions: ids.map((id, i) => ({ version: i + 1, id, deleted: false, registeredAt: "2026-01-01T00:00:00Z" })),
  lastVersion: ids.length,
});
const put = (key: string, value: unknown, revision: number): StoreChange => ({ key, value: encodeJson(value), revision });

describe("the in-memory copy of the registry", () => {
  it("keeps, per key, the change with the highest revision, whatever order changes arrive in", () => {
    const state = new RegistryState();
    expect(state.apply(put(keys.subject(S), record("sha256:a", "sha256:b"), 7))).toBe(true);
    // an older change (a watch delivering what the server's own write already applied) changes nothing
    expect(state.apply(put(keys.subject(S), record("sha256:a"), 5))).toBe(false);
    expect(state.subject(S)).toEqual({ value: record("sha256:a", "sha256:b"), revision: 7 });
    expect(state.apply({ key: keys.subject(S), value: undefined, revision: 9 })).toBe(true);
    expect(state.subject(S)).toBeUndefined();
    expect(state.subjectNames()).toEqual([]);
  });

  it("forgets a removed key until a newer change of it arrives", () => {
    const state = new RegistryState();
    const id = `sha256:${"1".repeat(64)}`;
    state.apply({ key: keys.schema(id), value: Uint8Array.of(1, 2), revision: 3 });
    expect(state.schema(id)).toEqual(Uint8Array.of(1, 2));
    state.forget(keys.schema(id));
    expect(state.schema(id)).toBeUndefined();
    // the store's own record of the removal, then a new write of the key
    expect(state.apply({ key: keys.schema(id), value: undefined, revision: 4 })).toBe(true);
    expect(state.apply({ key: keys.schema(id), value: Uint8Array.of(3), revision: 6 })).toBe(true);
    expect(state.schema(id)).toEqual(Uint8Array.of(3));
  });

  it("holds settings and subjects sorted, ignores keys of no family, and leaves out a value that does not decode", () => {
    const state = new RegistryState();
    state.apply(put(keys.globalConfig, { mode: "BACKWARD" }, 1));
    state.apply(put(keys.subjectConfig(S), { category: "WIRE" }, 2));
    state.apply(put(keys.subject("b.v1.B"), record("sha256:x"), 3));
    state.apply(put(keys.subject("a.v1.A"), record("sha256:y"), 4));
    expect(state.apply(put("someone.else", { x: 1 }, 5))).toBe(true);
    expect(state.globalConfig()?.value).toEqual({ mode: "BACKWARD" });
    expect(state.subjectConfig(S)?.value).toEqual({ category: "WIRE" });
    expect(state.subjectNames()).toEqual(["a.v1.A", "b.v1.B"]);
    expect(state.referencedSchemaIds()).toEqual(new Set(["sha256:x", "sha256:y"]));
    expect(() => state.apply({ key: keys.subject("a.v1.A"), value: new TextEncoder().encode("{not json"), revision: 6 })).toThrow();
    expect(state.subject("a.v1.A")).toBeUndefined();
  });
});

describe("the memory store's watch", () => {
  it("reports the current values, then every change in revision order, and resumes after a revision", async () => {
    const store = createMemoryStore();
    await store.put("a", Uint8Array.of(1));
    await store.put("b", Uint8Array.of(2));
    const seen: StoreChange[] = [];
    const watch = await store.watch(0, { change: (c) => seen.push(c), ended: () => {} });
    await store.remove("a");
    const r = await store.createIfAbsent("c", Uint8Array.of(3));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen.map((c) => [c.key, c.value?.[0], c.revision])).toEqual([
      ["a", 1, 1],
      ["b", 2, 2],
      ["a", undefined, 3],
      ["c", 3, r],
    ]);
    watch.stop();
    const resumed: StoreChange[] = [];
    const again = await store.watch(2, { change: (c) => resumed.push(c), ended: () => {} });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(resumed.map((c) => c.revision)).toEqual([3, 4]);
    again.stop();
    expect(await store.lastRevision()).toBe(4);
  });
});
