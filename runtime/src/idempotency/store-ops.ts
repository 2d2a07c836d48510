import type { IdempotencyStore } from "./types.js";

/** The answer to a lookup (recorded or not) or a record (`true` once stored), or why there is none. @private */
export type StoreAnswer = (result: boolean | Error) => void;

/**
 * A store's two operations in callback form, for the consumer's hot path:
 * no promise per operation. The answer may come synchronously. @private
 */
export interface StoreOps {
  lookup(key: string, answer: StoreAnswer): void;
  record(key: string, answer: StoreAnswer): void;
}

/** Where a store built into the runtime keeps its {@link StoreOps}. @private */
export const STORE_OPS = Symbol.for("chronicle.storeOps");

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/**
 * The callback form of `store`: its own when it has one (the KV store),
 * otherwise its promises adapted. @private
 */
export function storeOps(store: IdempotencyStore): StoreOps {
  const own = (store as { [STORE_OPS]?: StoreOps })[STORE_OPS];
  if (own) return own;
  const adapt = (run: () => Promise<unknown>, answer: StoreAnswer, done: (value: unknown) => boolean) => {
    let p: Promise<unknown>;
    try {
      p = run();
    } catch (err) {
      queueMicrotask(() => answer(asError(err)));
      return;
    }
    p.then(
      (v) => answer(done(v)),
      (err: unknown) => answer(asError(err)),
    );
  };
  return {
    // only `true` is "recorded": a store answering anything else has not seen the key
    lookup: (key, answer) =>
      adapt(
        () => store.isDone(key),
        answer,
        (v) => v === true,
      ),
    record: (key, answer) =>
      adapt(
        () => store.markDone(key),
        answer,
        () => true,
      ),
  };
}
