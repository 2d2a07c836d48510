/**
 * A queue that producers push into and one consumer iterates, ending when
 * `signal` aborts. Only the latest `keep` items are held when the consumer
 * is slower than the producers (a live view needs the newest state, not
 * every one in between).
 */
export function liveQueue<T>(signal: AbortSignal, keep = 16): { push(item: T): void; [Symbol.asyncIterator](): AsyncIterator<T> } {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort, { once: true });
  return {
    push(item) {
      items.push(item);
      if (items.length > keep) items.shift();
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      try {
        while (!signal.aborted) {
          if (items.length === 0) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          yield items.shift()!;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Maps `items` with at most `concurrency` calls of `fn` running at once, keeping the order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
