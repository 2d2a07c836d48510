// An idle relay polls its outbox every pollIntervalMs for as long as the
// service runs: each poll must leave nothing behind. Abort listeners are
// counted on every AbortSignal while the relay idles (the prototype's
// add/remove are observed, not replaced), and no process warning may appear.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { connect } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";
import { createOutbox, startRelay } from "../index.js";

/** Counts the abort listeners registered and not removed on AbortSignals (none aborts while the relay idles), until `restore()`. */
function watchAbortListeners(): { live(): number; restore(): void } {
  const proto = AbortSignal.prototype;
  const add = proto.addEventListener;
  const remove = proto.removeEventListener;
  const live = new Map<AbortSignal, Set<unknown>>();
  proto.addEventListener = function (this: AbortSignal, type: string, listener: unknown, ...rest: unknown[]) {
    if (type === "abort" && listener) {
      const set = live.get(this) ?? new Set();
      set.add(listener);
      live.set(this, set);
    }
    return (add as (...a: unknown[]) => void).call(this, type, listener, ...rest);
  } as typeof proto.addEventListener;
  proto.removeEventListener = function (this: AbortSignal, type: string, listener: unknown, ...rest: unknown[]) {
    if (type === "abort") live.get(this)?.delete(listener);
    return (remove as (...a: unknown[]) => void).call(this, type, listener, ...rest);
  } as typeof proto.removeEventListener;
  return {
    live: () => [...live.values()].reduce((n, s) => n + s.size, 0),
    restore: () => {
      proto.addEventListener = add;
      proto.removeEventListener = remove;
    },
  };
}

describe("idle relay", () => {
  it("keeps its listener count flat over hundreds of polls and raises no MaxListenersExceededWarning", { timeout: 60_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const dir = mkdtempSync(join(tmpdir(), "chronicle-idle-relay-"));
    const db = new BetterSqlite3(join(dir, "app.db"));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    const watch = watchAbortListeners();
    try {
      const outbox = createOutbox(db);
      await outbox.migrate();
      const relay = await startRelay(outbox, conn, { pollIntervalMs: 5 });
      await relay.idle();
      const polls = async (n: number) => {
        // each idle() resolves after one more empty poll
        for (let i = 0; i < n; i++) await relay.idle();
      };
      await polls(50);
      const early = watch.live();
      await polls(400);
      const late = watch.live();
      await relay.stop();
      expect(late).toBe(early);
      expect(late).toBeLessThan(10);
      expect(warnings).toEqual([]);
    } finally {
      watch.restore();
      process.off("warning", onWarning);
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
