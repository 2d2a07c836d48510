// What every file of consumer-group schedules needs: one server, an admin
// connection, a folder for the members' effect files, and member processes
// that are stopped gracefully by the tests and killed after the file.
// Internal to the tests.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { connect, describeGroup, type ChronicleConnection } from "@chronicle/runtime";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { checkGroupRun, type GroupVerdict } from "./group-check.js";
import {
  exited,
  killMember,
  notes,
  noteStream,
  provision,
  publishAll,
  readEffects,
  sleep,
  spawnMember,
  waitFor,
  type MemberConfig,
  type NoteStream,
  type PublishOutcome,
} from "./helpers.js";

/** The shared state of one test file (valid inside its tests). */
export interface GroupSuite {
  readonly server: LocalServer;
  readonly conn: ChronicleConnection;
  /** A file in the suite's folder. */
  file(name: string): string;
  /** Starts a member process (see `spawnMember`), killed after the file if a test did not stop it. */
  spawn(config: MemberConfig): Promise<ChildProcess>;
}

/** Registers the file's `beforeAll`/`afterAll` and returns its shared state. */
export function groupSuite(name: string): GroupSuite {
  let server: LocalServer | undefined;
  let conn: ChronicleConnection | undefined;
  let dir = "";
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    server = await startLocalServer();
    conn = await connect({ servers: server.url });
    dir = mkdtempSync(join(tmpdir(), `chronicle-rel-${name}-`));
  });
  afterAll(async () => {
    for (const c of children) {
      c.kill("SIGCONT");
      await killMember(c);
    }
    await conn?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get server() {
      return server!;
    },
    get conn() {
      return conn!;
    },
    file: (file) => join(dir, file),
    async spawn(config) {
      const c = await spawnMember(config);
      children.push(c);
      return c;
    },
  };
}

/** Stops member processes gracefully (SIGTERM: they hand their partitions over), SIGKILL after 15 s. */
export async function stopMembers(members: readonly ChildProcess[]): Promise<void> {
  for (const c of members) c.kill("SIGTERM");
  await Promise.all(members.map((c) => Promise.race([exited(c), sleep(15_000)])));
  for (const c of members) await killMember(c);
}

/** Waits until the members have handled `count` distinct events (appended to `effectsFile`); false when `ms` passed first. */
export function drained(effectsFile: string, count: number, ms: number): Promise<boolean> {
  return waitFor(() => new Set(readEffects(effectsFile).map((e) => e.v)).size >= count, ms, 250);
}

/** The error lines members wrote to `effectsFile` (of one member, when given). */
export function errorLines(effectsFile: string, member?: string): string[] {
  return readFileSync(effectsFile, "utf8")
    .split("\n")
    .filter((l) => l.startsWith(member ? `error ${member} ` : "error "));
}

/**
 * Publishes `values` in 30 windows while `steps` run one after another, the
 * i-th once (i + 1) / (steps + 1) of the events are on their way: members
 * join, leave, die or freeze while events flow.
 */
export async function publishWithSteps(
  conn: ChronicleConnection,
  def: NoteStream,
  values: readonly string[],
  steps: readonly (() => unknown)[],
): Promise<PublishOutcome> {
  let next = 0;
  return publishAll(conn, def, values, {
    window: Math.ceil(values.length / 30),
    onProgress: async (done) => {
      if (next < steps.length && done >= ((next + 1) * values.length) / (steps.length + 1)) await steps[next++]!();
    },
  });
}

/** What {@link startedTogether} saw. */
export interface BacklogRun {
  verdict: GroupVerdict;
  /** From starting the members to the last event handled, ms. */
  ms: number;
  /** False when the events were not all handled in time. */
  drained: boolean;
}

/**
 * Stores `events` events over `keys` keys in a new stream, starts member
 * processes `memberIds` at once over that backlog (handlers of 0.2 ms),
 * waits until they handled everything, stops them and checks the run.
 */
export async function startedTogether(
  suite: GroupSuite,
  run: { stream: string; partitions: number; events: number; keys: number; memberIds: readonly string[]; failoverMs?: number; drainMs: number },
): Promise<BacklogRun> {
  const def = noteStream(run.stream, run.partitions);
  await provision(suite.conn, def);
  const values = notes(run.events, run.keys);
  const pub = await publishAll(suite.conn, def, values, { window: 5000 });
  if (pub.failed.length > 0) throw new Error(`publishing the backlog failed: ${pub.failed[0]!.error.message}`);
  const effectsFile = suite.file(`${run.stream}.log`);
  const base = {
    servers: [suite.server.url],
    stream: run.stream,
    partitions: run.partitions,
    group: "g",
    effectsFile,
    store: "state" as const,
    handlerSpinMs: 0.2,
  };
  const t0 = Date.now();
  const members = await Promise.all(
    run.memberIds.map((memberId) => suite.spawn({ ...base, memberId, ...(run.failoverMs ? { failoverMs: run.failoverMs } : {}) })),
  );
  const all = await drained(effectsFile, run.events, run.drainMs);
  const ms = Date.now() - t0;
  if (!all) console.log(JSON.stringify(await describeGroup(suite.conn, run.stream, "g")), errorLines(effectsFile).slice(0, 20).join("\n"));
  await stopMembers(members);
  return { verdict: checkGroupRun(readEffects(effectsFile), values), ms, drained: all };
}
