import { RegistryError } from "./registry-error.js";

/**
 * Runs `attempt` until it returns a value; undefined means it lost a
 * compare-and-set to another writer and should start over from a fresh read
 * (`attempt` gets the number of the attempt, 0 first). Waits a short random
 * time between attempts; after `maxAttempts` throws `too_many_writers`.
 * @private
 */
export async function retryCompareAndSet<T>(what: string, maxAttempts: number, attempt: (n: number) => Promise<T | undefined>): Promise<T> {
  for (let n = 0; n < maxAttempts; n++) {
    const out = await attempt(n);
    if (out !== undefined) return out;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 + n * 2, 50)));
  }
  throw new RegistryError("too_many_writers", `${what}: too many concurrent writers, gave up after ${maxAttempts} attempts; retry`);
}
