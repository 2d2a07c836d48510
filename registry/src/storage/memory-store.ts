import type { RegistryStore, StoreChange, StoreWatchListener } from "./store.js";

/**
 * A {@link RegistryStore} in memory with the same compare-and-set and watch
 * semantics as the KV store, for unit tests and throwaway registries. Several
 * registry servers in one process may share one; it is not shared between
 * processes.
 */
export function createMemoryStore(): RegistryStore {
  // a removed key keeps its revision (value undefined), as a KV delete marker does, so a watch can report it
  const data = new Map<string, StoreChange>();
  const listeners = new Set<StoreWatchListener>();
  let revision = 0;
  const write = (key: string, value: Uint8Array | undefined): number => {
    const change = { key, value: value?.slice(), revision: ++revision };
    data.set(key, change);
    // delivered after the write returns, as a watch over the network would
    queueMicrotask(() => {
      for (const l of listeners) l.change({ ...change, value: change.value?.slice() });
    });
    return change.revision;
  };
  const live = (key: string) => {
    const e = data.get(key);
    return e?.value ? e : undefined;
  };
  return {
    get: async (key) => {
      const e = data.get(key);
      return e ? { value: e.value?.slice(), revision: e.revision } : undefined;
    },
    createIfAbsent: async (key, value) => (live(key) ? undefined : write(key, value)),
    updateIfRevision: async (key, value, rev) => (live(key)?.revision === rev ? write(key, value) : undefined),
    put: async (key, value) => write(key, value),
    remove: async (key) => {
      if (live(key)) write(key, undefined);
    },
    lastRevision: async () => revision,
    watch: async (afterRevision, listener) => {
      const backlog = [...data.values()].filter((c) => c.revision > afterRevision).sort((a, b) => a.revision - b.revision);
      let stopped = false;
      const guarded: StoreWatchListener = { change: (c) => !stopped && listener.change(c), ended: () => {} };
      queueMicrotask(() => {
        for (const c of backlog) guarded.change({ ...c, value: c.value?.slice() });
        if (!stopped) listeners.add(guarded);
      });
      return {
        stop: () => {
          stopped = true;
          listeners.delete(guarded);
        },
      };
    },
  };
}
