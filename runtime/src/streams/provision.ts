import type { StreamConfig, StreamInfo } from "@nats-io/jetstream";
import type { ChronicleConnection } from "../connection.js";
import { resolveStreamSettings, type StreamDefinition, type StreamSettings } from "../definition.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { translateNatsError } from "../nats-error.js";
import { dlqStreamConfigOf, partitionsOfConfig, streamConfigOf } from "./stream-config.js";

/** What provisioning does (or would do) to one JetStream stream. */
export type StreamAction = "create" | "update" | "unchanged" | "refused" | "recreate";

/** One setting that differs between the definition and the server. */
export interface FieldChange {
  /** Setting name as in JetStream's configuration (`max_age`, `num_replicas`, `partitions`, ...). */
  field: string;
  /** Value on the server. */
  from: unknown;
  /** Value the definition asks for. */
  to: unknown;
  /** True when the change would remap keys or lose stored events. */
  destructive: boolean;
  /** Why the change is destructive, for people. */
  reason?: string;
}

/**
 * The plan for one JetStream stream: a Chronicle stream (`role: "events"`)
 * or its dead-letter stream (`role: "dead-letters"`).
 *
 * - `create`: the stream does not exist;
 * - `update`: it exists and differs; `forced` when destructive changes are
 *   applied because `force` was given;
 * - `recreate`: a forced change the server cannot make in place (storage
 *   type): the stream is deleted, with every event in it, and created again;
 * - `unchanged`: nothing to do;
 * - `refused`: a destructive change without `force`; `reason` says why.
 */
export interface StreamPlan {
  stream: string;
  role: "events" | "dead-letters";
  action: StreamAction;
  changes: FieldChange[];
  forced?: boolean;
  reason?: string;
  /** Set by {@link applyStreams}: the plan was carried out. */
  applied?: boolean;
}

/** Options of {@link planStreams} and {@link applyStreams}. */
export interface PlanOptions {
  /** Allow changes that remap keys or lose stored events. Default false. */
  force?: boolean;
}

const NS_PER_MS = 1_000_000;

function limitLoss(from: number, to: number, unlimited: number): boolean {
  // a new limit loses data when it appears or shrinks
  return to !== unlimited && (from === unlimited || to < from);
}

/** Compares a wanted configuration with the server's and lists the differences. */
function diffConfig(role: StreamPlan["role"], want: Partial<StreamConfig>, have: Partial<StreamConfig>): FieldChange[] {
  const changes: FieldChange[] = [];
  const add = (field: string, from: unknown, to: unknown, reason?: string) =>
    changes.push({ field, from, to, destructive: reason !== undefined, ...(reason !== undefined ? { reason } : {}) });

  if (JSON.stringify(have.subjects ?? []) !== JSON.stringify(want.subjects ?? [])) {
    add("subjects", have.subjects ?? [], want.subjects ?? [], "the subject layout differs: publishers and readers would disagree on where events are");
  }
  if (role === "events") {
    const fromP = partitionsOfConfig(have);
    const toP = partitionsOfConfig(want);
    if (fromP !== toP) {
      add(
        "partitions",
        fromP ?? null,
        toP ?? null,
        "changing the number of partitions remaps keys: stored events stay where they are, new ones of the same key go elsewhere",
      );
    } else if (
      (have.subject_transform?.dest ?? "") !== (want.subject_transform?.dest ?? "") ||
      (have.subject_transform?.src ?? "") !== (want.subject_transform?.src ?? "")
    ) {
      add(
        "subject_transform",
        have.subject_transform ?? null,
        want.subject_transform ?? null,
        "the subject transform differs: keys would be mapped differently",
      );
    }
  } else if (have.subject_transform?.dest) {
    add("subject_transform", have.subject_transform, null, "the dead-letter stream must store subjects as published");
  }
  if (have.storage !== want.storage) {
    add("storage", have.storage, want.storage, "the storage type cannot change in place: the stream would be deleted with every event in it and created again");
  }
  if (have.retention !== want.retention) {
    add("retention", have.retention, want.retention, "another retention policy removes events on other conditions");
  }
  if ((have.num_replicas ?? 1) !== want.num_replicas) add("num_replicas", have.num_replicas ?? 1, want.num_replicas);
  const fromAge = have.max_age ?? 0;
  const toAge = want.max_age ?? 0;
  if (fromAge !== toAge)
    add("max_age", fromAge / NS_PER_MS, toAge / NS_PER_MS, limitLoss(fromAge, toAge, 0) ? "a shorter maximum age deletes older events" : undefined);
  for (const field of ["max_bytes", "max_msgs"] as const) {
    const from = have[field] ?? -1;
    const to = want[field] ?? -1;
    if (from !== to) add(field, from, to, limitLoss(from, to, -1) ? `a smaller ${field} limit deletes the oldest events` : undefined);
  }
  if (want.duplicate_window !== undefined && have.duplicate_window !== want.duplicate_window) {
    add("duplicate_window", (have.duplicate_window ?? 0) / NS_PER_MS, want.duplicate_window / NS_PER_MS);
  }
  if (have.discard !== want.discard) add("discard", have.discard, want.discard);
  if (want.allow_direct !== undefined && (have.allow_direct ?? false) !== want.allow_direct) add("allow_direct", have.allow_direct ?? false, want.allow_direct);
  for (const [k, v] of Object.entries(want.metadata ?? {})) {
    if (have.metadata?.[k] !== v) add(`metadata.${k}`, have.metadata?.[k] ?? null, v);
  }
  return changes;
}

async function streamInfo(conn: ChronicleConnection, name: string): Promise<StreamInfo | undefined> {
  try {
    return await conn.jsm.streams.info(name);
  } catch (err) {
    const e = translateNatsError(err, `reading stream ${name}`, { stream: name });
    if (e.code === ErrorCode.NotFound) return undefined;
    throw e;
  }
}

function planOne(role: StreamPlan["role"], want: Partial<StreamConfig> & { name: string }, have: StreamInfo | undefined, force: boolean): StreamPlan {
  if (!have) return { stream: want.name, role, action: "create", changes: [] };
  const changes = diffConfig(role, want, have.config);
  if (changes.length === 0) return { stream: want.name, role, action: "unchanged", changes };
  const destructive = changes.filter((c) => c.destructive);
  if (destructive.length === 0) return { stream: want.name, role, action: "update", changes };
  const reason = destructive.map((c) => `${c.field}: ${c.reason}`).join("; ");
  if (!force) return { stream: want.name, role, action: "refused", changes, reason: `${reason} (use force to apply)` };
  const recreate = changes.some((c) => c.field === "storage");
  return { stream: want.name, role, action: recreate ? "recreate" : "update", changes, forced: true, reason };
}

function wanted(settings: StreamSettings): [StreamPlan["role"], Partial<StreamConfig> & { name: string }][] {
  const s = resolveStreamSettings(settings);
  return [
    ["events", streamConfigOf(s)],
    ["dead-letters", dlqStreamConfigOf(s)],
  ];
}

/**
 * Compares stream settings with the server and returns, for each stream and
 * its dead-letter stream, what {@link applyStreams} would do. Reads only;
 * changes nothing. A change that would remap keys or lose stored events
 * (other partitions or subjects, shorter retention, smaller limits, another
 * storage type) is `refused` with its reason unless `force` is set.
 */
export async function planStreams(conn: ChronicleConnection, settings: readonly StreamSettings[], options: PlanOptions = {}): Promise<StreamPlan[]> {
  const plans: StreamPlan[] = [];
  for (const s of settings) {
    for (const [role, want] of wanted(s)) {
      plans.push(planOne(role, want, await streamInfo(conn, want.name), options.force === true));
    }
  }
  return plans;
}

async function carryOut(conn: ChronicleConnection, plan: StreamPlan, want: Partial<StreamConfig> & { name: string }): Promise<void> {
  const what = `${plan.action} stream ${plan.stream}`;
  try {
    switch (plan.action) {
      case "create":
        await conn.jsm.streams.add(want);
        return;
      case "update":
        await conn.jsm.streams.update(want.name, want);
        return;
      case "recreate":
        await conn.jsm.streams.delete(want.name);
        await conn.jsm.streams.add(want);
        return;
      default:
        return;
    }
  } catch (err) {
    throw translateNatsError(err, what, { stream: plan.stream });
  }
}

/**
 * Makes the server's streams match the settings: creates missing streams
 * and dead-letter streams, updates changed ones, and leaves refused ones
 * alone (see {@link planStreams}). Idempotent: a second run reports every
 * stream `unchanged`. Returns the plans with `applied` set on those carried
 * out. Throws a {@link ChronicleError} when the server rejects a change
 * (for example more replicas than servers).
 */
export async function applyStreams(conn: ChronicleConnection, settings: readonly StreamSettings[], options: PlanOptions = {}): Promise<StreamPlan[]> {
  const plans: StreamPlan[] = [];
  for (const s of settings) {
    for (const [role, want] of wanted(s)) {
      let plan = planOne(role, want, await streamInfo(conn, want.name), options.force === true);
      if (plan.action === "create" || plan.action === "update" || plan.action === "recreate") {
        try {
          await carryOut(conn, plan, want);
          plan.applied = true;
        } catch (err) {
          // another process (a second replica of a service at start-up) created it first: plan again
          if (plan.action !== "create") throw err;
          plan = planOne(role, want, await streamInfo(conn, want.name), options.force === true);
          if (plan.action === "create") throw err;
          if (plan.action === "update" || plan.action === "recreate") {
            await carryOut(conn, plan, want);
            plan.applied = true;
          }
        }
      }
      plans.push(plan);
    }
  }
  return plans;
}

/**
 * Makes sure a stream and its dead-letter stream exist with the
 * definition's settings; for services at start-up. Creates what is missing
 * and applies safe changes; throws a {@link ChronicleError} with code
 * `failed_precondition` (and the reason) when the server's stream differs in
 * a way that would remap keys or lose events, which only
 * `chronicle streams apply --force` may change.
 */
export async function ensureStream(conn: ChronicleConnection, definition: StreamDefinition | { settings: StreamSettings }): Promise<StreamPlan[]> {
  const plans = await planStreams(conn, [definition.settings]);
  const refused = plans.find((p) => p.action === "refused");
  if (refused) {
    throw new ChronicleError(ErrorCode.FailedPrecondition, `stream ${refused.stream} on the server differs from its definition: ${refused.reason}`, {
      context: { stream: refused.stream },
    });
  }
  return applyStreams(conn, [definition.settings]);
}
