import { describe, expect, it } from "vitest";
import { createMemoryIdempotencyStore } from "./memory-store.js";
import { storeOps } from "./store-ops.js";
import type { IdempotencyStore } from "./types.js";

const ask = (op: (key: string, answer: (r: boolean | Error) => void) => void, key: string) => new Promise<boolean | Error>((resolve) => op(key, resolve));

describe("a store's promises in callback form", () => {
  it("answers lookups and records as the store does", async () => {
    const ops = storeOps(createMemoryIdempotencyStore());
    expect(await ask(ops.lookup, "k")).toBe(false);
    expect(await ask(ops.record, "k")).toBe(true);
    expect(await ask(ops.lookup, "k")).toBe(true);
  });

  it("takes only true as recorded, and turns rejections and throws into errors", async () => {
    const odd = {
      isDone: async (key: string) => (key === "undefined" ? undefined : "yes"),
      markDone: (key: string) => {
        if (key === "throws") throw new Error("thrown");
        return Promise.reject("rejected with a string");
      },
    } as unknown as IdempotencyStore;
    const ops = storeOps(odd);
    expect(await ask(ops.lookup, "undefined")).toBe(false);
    expect(await ask(ops.lookup, "other")).toBe(false);
    const thrown = await ask(ops.record, "throws");
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toBe("thrown");
    const rejected = await ask(ops.record, "k");
    expect((rejected as Error).message).toBe("rejected with a string");
  });
});
