import { int4Hash, type PgPool, type SqliteDatabase, type TableNames } from "./database.js";
import { pgSchema, sqliteSchema } from "./schema.js";

/** Creates the outbox, lease and inbox tables on SQLite when missing. @private */
export function migrateSqlite(db: SqliteDatabase, t: TableNames): void {
  db.transaction(() => {
    for (const ddl of sqliteSchema(t)) db.exec(ddl);
  })();
}

/** Creates the outbox and inbox tables on PostgreSQL when missing, one process at a time. @private */
export async function migratePg(pool: PgPool, t: TableNames): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1::int)", [int4Hash(`${t.outbox} migrate`)]);
    for (const ddl of pgSchema(t)) await client.query(ddl);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
