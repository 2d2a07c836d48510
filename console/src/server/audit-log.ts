import { randomUUID } from "node:crypto";
import type { ChronicleConnection } from "@chronicle/runtime";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Caller } from "./access.js";

/** The stream the console keeps its audit log in. */
export const AUDIT_STREAM = "chronicle_console_audit";
/** The subject of audit records (outside the `<stream>.*.*` space of Chronicle streams). */
export const AUDIT_SUBJECT = "_chronicle.console.audit";

/** One audit record as stored (JSON). */
export interface AuditRecord {
  /** Shared by an action's `started` record and its final one. */
  id: string;
  at: string;
  who: string;
  role: string;
  action: string;
  target: string;
  outcome: "started" | "ok" | "failed";
  detail: string;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** How long records are kept, ms; default 90 days. */
  maxAgeMs?: number;
  /** Replicas of the audit stream when it is created; default 1. */
  replicas?: number;
  /** Also called with every record (the console prints them to its log). */
  onRecord?: (r: AuditRecord) => void;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The console's audit log: every destructive action (redrive, purge,
 * rewind, republish, schema registration and settings) is written to a
 * JetStream stream before it runs (`started`) and again when it ends (`ok`
 * or `failed`, with the error). If the `started` record cannot be stored,
 * the action is refused and nothing is done, so no action escapes the log;
 * an action whose final record is missing shows as `started` (the console
 * stopped or NATS went away while it ran).
 */
export class AuditLog {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly conn: ChronicleConnection,
    private readonly options: AuditLogOptions = {},
  ) {}

  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const config = {
        name: AUDIT_STREAM,
        subjects: [AUDIT_SUBJECT],
        storage: "file",
        retention: "limits",
        discard: "old",
        max_age: (this.options.maxAgeMs ?? 90 * DAY_MS) * 1_000_000,
        num_replicas: this.options.replicas ?? 1,
        allow_direct: true,
      } as const;
      try {
        await this.conn.jsm.streams.info(AUDIT_STREAM);
      } catch {
        await this.conn.jsm.streams.add(config as never);
      }
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async append(r: AuditRecord): Promise<void> {
    await this.ensure();
    await this.conn.js.publish(AUDIT_SUBJECT, JSON.stringify(r), { msgID: `${r.id}:${r.outcome}` });
    this.options.onRecord?.(r);
  }

  /**
   * Runs a destructive action under the log: a `started` record first
   * (refusing the action with `unavailable` when it cannot be stored), then
   * `ok` with `describe(result)` or `failed` with the error. The action's
   * own error is rethrown.
   */
  async run<T>(caller: Caller, action: string, target: string, fn: () => Promise<T>, describe: (result: T) => string = () => ""): Promise<T> {
    const base = { id: randomUUID(), who: caller.name, role: caller.role, action, target };
    try {
      await this.append({ ...base, at: new Date().toISOString(), outcome: "started", detail: "" });
    } catch (err) {
      throw new ConnectError(
        `the audit log cannot be written (${(err as Error).message}); ${action} of ${target} was not done`,
        Code.Unavailable,
        undefined,
        undefined,
        err,
      );
    }
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await this.append({ ...base, at: new Date().toISOString(), outcome: "failed", detail: err instanceof Error ? err.message : String(err) }).catch(() => {});
      throw err;
    }
    await this.append({ ...base, at: new Date().toISOString(), outcome: "ok", detail: describe(result) }).catch(() => {});
    return result;
  }

  /**
   * The latest `limit` actions, newest first: for each, its final record,
   * or its `started` record when it has none.
   */
  async list(limit: number): Promise<AuditRecord[]> {
    let info;
    try {
      info = await this.conn.jsm.streams.info(AUDIT_STREAM);
    } catch (err) {
      if (/not found/i.test((err as Error).message)) return [];
      throw err;
    }
    const { first_seq: first, last_seq: last, messages } = info.state;
    if (messages === 0) return [];
    // two records per action, a few more for actions still running
    const from = Math.max(first, last - limit * 2 - 10 + 1);
    const records: AuditRecord[] = [];
    const batch = await this.conn.jsm.direct.getBatch(AUDIT_STREAM, { seq: from, batch: last - from + 1 });
    for await (const m of batch) {
      try {
        records.push(m.json<AuditRecord>());
      } catch {
        // a record that is not JSON is not the console's
      }
    }
    const byId = new Map<string, AuditRecord>();
    for (const r of records) {
      const seen = byId.get(r.id);
      if (!seen || seen.outcome === "started") byId.set(r.id, r);
    }
    const firstAt = new Map<string, string>();
    for (const r of records) if (!firstAt.has(r.id)) firstAt.set(r.id, r.at);
    return [...byId.values()].sort((a, b) => (firstAt.get(b.id)! < firstAt.get(a.id)! ? -1 : 1)).slice(0, limit);
  }
}
