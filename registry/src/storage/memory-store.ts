import type { RegistryStore, StoredEntry } from "./store.js";

/**
 * A {@link RegistryStore} in memory with the same compare-and-set semantics
 * as the KV store, for unit tests and throwaway registries. Not shared
 * between processes.
 */
export function createMemoryStore(): RegistryStore {
  const data = new Map<string, StoredEntry>();
  let revision = 0;
  const set = (key: string, value: Uint8Array) => data.set(key, { value: value.slice(), revision: ++revision });
  return {
    get: async (key) => {
      const e = data.get(key);
      return e ? { value: e.value.slice(), revision: e.revision } : undefined;
    },
    createIfAbsent: async (key, value) => {
      if (data.has(key)) return false;
      set(key, value);
      return true;
    },
    updateIfRevision: async (key, value, rev) => {
      if (data.get(key)?.revision !== rev) return false;
      set(key, value);
      return true;
    },
    put: async (key, value) => {
      set(key, value);
    },
    remove: async (key) => {
      data.delete(key);
    },
    keys: async (prefix) => [...data.keys()].filter((k) => k.startsWith(`${prefix}.`)).sort(),
  };
}
