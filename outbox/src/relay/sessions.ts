import { randomBytes } from "node:crypto";
import type pg from "pg";
import { int4Hash, type PgPool, type SqliteDatabase, type TableNames } from "../sql/database.js";
import { RELAY_SLOTS } from "../outbox/encode-row.js";
import type { StoredRow } from "./publish-rows.js";

/** The relay's view of its database: which rows it may publish, and removing them once acknowledged. @private */
export interface RelaySession {
  /** Takes or renews this relay's right to publish; false when another relay has it all. */
  claim(): Promise<boolean>;
  /** The oldest rows this relay may publish, in `seq` order. */
  fetch(limit: number): Promise<StoredRow[]>;
  /** Deletes acknowledged rows. */
  remove(seqs: number[]): Promise<void>;
  /** Gives up the claim. `broken` drops the connection instead of returning it. */
  close(broken?: boolean): Promise<void>;
}

type RawRow = { seq: number | string; id: string; stream: string; subject: string; msg_key: string; headers: string; payload: Uint8Array };

const toRow = (r: RawRow): StoredRow => ({
  seq: Number(r.seq),
  id: r.id,
  stream: r.stream,
  subject: r.subject,
  key: r.msg_key,
  headers: r.headers,
  payload: r.payload,
});

/**
 * SQLite: one relay at a time holds a lease row (renewed at half its
 * duration). SQLite has one writer at a time anyway; the lease keeps a
 * second relay process from publishing the same rows. @private
 */
export function sqliteSession(db: SqliteDatabase, t: TableNames, owner: string, leaseMs: number): RelaySession {
  const take = db.prepare(
    `INSERT INTO ${t.lease} (name, owner, expires_at) VALUES ('relay', ?, ?)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
     WHERE ${t.lease}.owner = excluded.owner OR ${t.lease}.expires_at < ?`,
  );
  const select = db.prepare(`SELECT seq, id, stream, subject, msg_key, headers, payload FROM ${t.outbox} ORDER BY seq LIMIT ?`);
  const del = db.prepare(`DELETE FROM ${t.outbox} WHERE seq IN (SELECT value FROM json_each(?))`);
  const release = db.prepare(`DELETE FROM ${t.lease} WHERE name = 'relay' AND owner = ?`);
  let heldUntil = 0;
  let nextTry = 0;
  return {
    async claim() {
      const now = Date.now();
      if (heldUntil - now > leaseMs / 2) return true;
      // a standby relay tries a few times per lease, not at every poll: each try is a write
      if (heldUntil === 0 && now < nextTry) return false;
      const r = take.run(owner, now + leaseMs, now);
      heldUntil = r.changes === 1 ? now + leaseMs : 0;
      if (heldUntil === 0) nextTry = now + Math.max(50, leaseMs / 10);
      return heldUntil > 0;
    },
    async fetch(limit) {
      return (select.all(limit) as RawRow[]).map(toRow);
    },
    async remove(seqs) {
      del.run(JSON.stringify(seqs));
    },
    async close() {
      try {
        release.run(owner);
      } catch {
        // the database is closed: the lease simply expires
      }
    },
  };
}

/**
 * PostgreSQL: keys are spread over {@link RELAY_SLOTS} slots and a relay
 * publishes only the slots whose session advisory lock it holds on its own
 * connection. A relay that dies loses its connection and so its locks; the
 * others take the slots over at their next claim. Relays share the slots:
 * each announces itself with a presence lock, and one holding more than its
 * share (slots / relays, rounded up) gives the excess back between batches.
 * @private
 */
export async function pgSession(pool: PgPool, t: TableNames, maxSlots: number, claimEveryMs: number): Promise<RelaySession> {
  const client: pg.PoolClient = await pool.connect();
  const slotClass = int4Hash(`${t.outbox} relay`);
  const presenceClass = int4Hash(`${t.outbox} relay presence`);
  const held = new Set<number>();
  let lastClaim = 0;
  try {
    const me = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    await client.query("SELECT pg_advisory_lock($1::int, $2::int)", [presenceClass, me]);
  } catch (err) {
    client.release(err as Error);
    throw err;
  }
  const release = async (slots: number[]) => {
    if (slots.length === 0) return;
    await client.query("SELECT pg_advisory_unlock($1::int, s) FROM unnest($2::int[]) s", [slotClass, slots]);
    for (const s of slots) held.delete(s);
  };
  return {
    async claim() {
      const now = Date.now();
      if (now - lastClaim < claimEveryMs && held.size > 0) return true;
      lastClaim = now;
      const relays = Number(
        (
          await client.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = $1::int::oid AND objsubid = 2 AND granted",
            [presenceClass],
          )
        ).rows[0]!.n,
      );
      const share = Math.min(maxSlots, Math.ceil(RELAY_SLOTS / Math.max(1, relays)));
      if (held.size > share) await release([...held].sort((a, b) => b - a).slice(0, held.size - share));
      const want = share - held.size;
      if (want > 0) {
        const start = randomBytes(1)[0]! % RELAY_SLOTS;
        const candidates = Array.from({ length: RELAY_SLOTS }, (_, i) => (start + i) % RELAY_SLOTS).filter((s) => !held.has(s));
        const r = await client.query<{ s: number }>(
          "SELECT s FROM (SELECT s FROM unnest($2::int[]) WITH ORDINALITY AS u(s, o) ORDER BY o) c WHERE pg_try_advisory_lock($1::int, s) LIMIT $3",
          [slotClass, candidates, want],
        );
        for (const row of r.rows) held.add(row.s);
      }
      return held.size > 0;
    },
    async fetch(limit) {
      if (held.size === 0) return [];
      const r = await client.query<RawRow>(
        `SELECT seq, id, stream, subject, msg_key, headers, payload FROM ${t.outbox} WHERE slot = ANY($1::int[]) ORDER BY seq LIMIT $2`,
        [[...held], limit],
      );
      return r.rows.map(toRow);
    },
    async remove(seqs) {
      await client.query(`DELETE FROM ${t.outbox} WHERE seq = ANY($1::bigint[])`, [seqs]);
    },
    async close(broken = false) {
      if (broken) {
        client.release(true);
        return;
      }
      try {
        await client.query("SELECT pg_advisory_unlock_all()");
        client.release();
      } catch (err) {
        client.release(err as Error);
      }
    },
  };
}
