import { describe, expect, it, vi } from "vitest";
import { connect, type ChronicleConnection } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { Membership, openGroupsBucket, type MemberInfo } from "./membership.js";
import { GROUPS_BUCKET, memberKey } from "./names.js";

const HEARTBEAT_MS = 200;
const SESSION_TIMEOUT_MS = 1000;
const KV_STREAM = `KV_${GROUPS_BUCKET}`;

const info = (id: string): MemberInfo => ({ id, host: "test", pid: process.pid, startedAt: new Date().toISOString(), sessionTimeoutMs: SESSION_TIMEOUT_MS });

async function join(conn: ChronicleConnection, group: string, id: string): Promise<Membership> {
  const kv = await openGroupsBucket(conn);
  const m = new Membership(kv, "s", group, info(id), HEARTBEAT_MS, SESSION_TIMEOUT_MS, () => undefined);
  await m.join();
  return m;
}

/** Waits until `done()` holds and returns how long it took, or fails after `ms`. */
async function within(ms: number, done: () => boolean, what: string): Promise<number> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

async function consumerNames(conn: ChronicleConnection): Promise<string[]> {
  const names: string[] = [];
  for await (const c of conn.jsm.consumers.list(KV_STREAM)) names.push(c.name);
  return names;
}

describe("group membership", () => {
  it("a member joining a running group sees the members already there in its very first view", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url, name: "membership" });
    const running = await Promise.all(["a", "b", "c"].map((id) => join(conn, "first", id)));
    const kv = await openGroupsBucket(conn);
    // Several joins: each first view must already hold a, b and c (a view of the newcomer alone
    // made it take, reset and unpin every partition the others were handling).
    for (let i = 0; i < 5; i++) {
      const views: string[][] = [];
      const m = new Membership(kv, "s", "first", info(`new${i}`), HEARTBEAT_MS, SESSION_TIMEOUT_MS, (members) => views.push(members));
      await m.join();
      expect(views[0], `first view of new${i}: ${JSON.stringify(views)}`).toEqual(["a", "b", "c", `new${i}`]);
      await m.leave();
    }
    for (const m of running) await m.leave();
  });

  it("a member whose wall clock is an hour ahead or behind sees the running members, and only them, in its first view", { timeout: 40_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url, name: "membership" });
    const kv = await openGroupsBucket(conn);
    // running members that beat every 2.5 s (so that the newcomer's first view comes from their entries,
    // not from heartbeats its watch sees), and a member that died 6 s ago and left its entry behind
    const running = ["a", "b"].map((id) => new Membership(kv, "s", "skew", { ...info(id), sessionTimeoutMs: 10_000 }, 2500, 10_000, () => undefined));
    for (const r of running) await r.join();
    await kv.put(memberKey("s", "skew", "gone"), JSON.stringify(info("gone")));
    await new Promise((r) => setTimeout(r, 6000));
    const realNow = Date.now.bind(Date);
    for (const offsetMs of [3600_000, -3600_000]) {
      const views: string[][] = [];
      const id = `skewed${offsetMs > 0 ? "Ahead" : "Behind"}`;
      const m = new Membership(kv, "s", "skew", { ...info(id), sessionTimeoutMs: 5000 }, HEARTBEAT_MS, 5000, (members) => views.push(members));
      const clock = vi.spyOn(Date, "now").mockImplementation(() => realNow() + offsetMs);
      try {
        await m.join();
      } finally {
        clock.mockRestore();
      }
      // with ages by its own wall clock: ahead, a and b looked an hour old (it took them for dead and would
      // take every partition); behind, the dead member looked alive
      expect(views[0], `first view with the clock ${offsetMs / 1000} s off: ${JSON.stringify(views)}`).toEqual(["a", "b", id]);
      await m.leave();
    }
    for (const r of running) await r.leave();
  });

  it("sees joins and leaves through the watch", { timeout: 20_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url, name: "membership" });
    const a = await join(conn, "plain", "a");
    const b = await join(conn, "plain", "b");
    try {
      await within(SESSION_TIMEOUT_MS, () => a.members().join() === "a,b" && b.members().join() === "a,b", "a and b see each other");
      // heartbeats come back through a healthy watch: it is kept
      await new Promise((r) => setTimeout(r, 3 * a.echoTimeoutMs));
      expect([a.rewatches(), b.rewatches()]).toEqual([0, 0]);
      await b.leave();
      await within(SESSION_TIMEOUT_MS / 2, () => a.members().join() === "a", "a sees b leave at once");
    } finally {
      await a.leave();
      await b.leave();
    }
  });

  // The watch is a JetStream ordered push consumer. When it disappears on the server (deleted, or
  // lost across a server restart), nats.js notices only after two missed idle heartbeats (10 s for
  // a KV watch, 60 s once it has recreated it), far longer than a session timeout: meanwhile the
  // member misses joins and leaves. The member's own heartbeats must come back through the watch.
  it("re-creates a watch whose consumer was deleted on the server and sees a member that joins afterwards", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url, name: "membership" });
    const a = await join(conn, "deleted", "a");
    let b: Membership | undefined;
    let c: Membership | undefined;
    try {
      expect(a.members()).toEqual(["a"]);
      // the only consumers on the bucket are a's watch (and maybe its finished key listing)
      const before = await consumerNames(conn);
      expect(before.length).toBeGreaterThan(0);
      for (const name of before) await conn.jsm.consumers.delete(KV_STREAM, name);
      const deletedAt = Date.now();
      b = await join(conn, "deleted", "b");
      const seen = await within(3 * SESSION_TIMEOUT_MS, () => a.members().join() === "a,b", "a sees b join after its watch consumer was deleted");
      console.log(`membership: b seen by a ${Date.now() - deletedAt} ms after the watch consumer was deleted (${seen} ms after b joined)`);
      expect((await consumerNames(conn)).some((n) => !before.includes(n))).toBe(true);
      expect(a.rewatches()).toBeGreaterThanOrEqual(1);

      // the new watch carries changes at once again
      c = await join(conn, "deleted", "c");
      await within(SESSION_TIMEOUT_MS / 2, () => a.members().join() === "a,b,c", "a sees c join through the new watch");
      await c.leave();
      await within(SESSION_TIMEOUT_MS / 2, () => a.members().join() === "a,b", "a sees c leave through the new watch");

      // and it recovers again when the new consumer goes too
      for (const name of await consumerNames(conn)) await conn.jsm.consumers.delete(KV_STREAM, name);
      const again = Date.now();
      await b.leave();
      c = await join(conn, "deleted", "c");
      await within(3 * SESSION_TIMEOUT_MS, () => a.members().join() === "a,c", "a sees b leave and c join after a second deletion");
      console.log(`membership: second recovery ${Date.now() - again} ms after the deletion; rewatches=${a.rewatches()}`);
    } finally {
      await a.leave();
      await b?.leave();
      await c?.leave();
    }
  });

  it("keeps seeing joins across a SIGKILL and restart of the server", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url, name: "membership" });
    const a = await join(conn, "restart", "a");
    let b: Membership | undefined;
    try {
      await server.kill();
      await server.restart();
      const restartedAt = Date.now();
      b = await join(conn, "restart", "b");
      const joined = Date.now() - restartedAt;
      const seen = await within(3 * SESSION_TIMEOUT_MS, () => a.members().join() === "a,b", "a sees b join after the restart");
      console.log(`membership: after the restart b joined in ${joined} ms (the client reconnecting) and a saw it ${seen} ms later; rewatches=${a.rewatches()}`);
    } finally {
      await a.leave();
      await b?.leave();
    }
  });
});
