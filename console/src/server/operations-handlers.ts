import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { DeadLetter, RewindTarget as RuntimeRewindTarget } from "@chronicle/runtime";
import {
  AuditEntrySchema,
  DeadLetterEntrySchema,
  GroupMemberSchema,
  PartitionStateSchema,
  type DeadLetterFilter,
  type OperationsService,
  type RewindTarget,
} from "../gen/chronicle/console/v1/console_pb.js";
import { callerOf, requireConfirmation } from "./access.js";
import { liveQueue, mapLimit, sleep } from "./async-queue.js";
import { invalidArgument, translated } from "./connect-errors.js";
import type { ConsoleDeps } from "./deps.js";
import type { CountFrom } from "./streams-source.js";
import { browseMessages, browsedEvent, rawEvent } from "./messages/browse.js";
import { publishRepublish, validateRepublish } from "./republish.js";
import { schemaHandlers } from "./schema-handlers.js";

type Impl = ServiceImpl<typeof OperationsService>;

function rewindTarget(to: RewindTarget | undefined): { runtime: RuntimeRewindTarget; count: CountFrom; label: string } {
  switch (to?.to.case) {
    case "start":
      return { runtime: "start", count: { all: true }, label: "start" };
    case "sequence":
      if (to.to.value < 1n) throw invalidArgument("to.sequence", "must be 1 or more");
      return { runtime: Number(to.to.value), count: { sequence: Number(to.to.value) }, label: `sequence ${to.to.value}` };
    case "time": {
      const t = new Date(to.to.value);
      if (Number.isNaN(t.getTime())) throw invalidArgument("to.time", `not a time: ${JSON.stringify(to.to.value)}`);
      return { runtime: t, count: { time: t }, label: `time ${t.toISOString()}` };
    }
    default:
      throw invalidArgument("to", "say where to rewind to: start, a sequence or a time");
  }
}

function matches(d: DeadLetter, f: DeadLetterFilter | undefined): boolean {
  if (!f) return true;
  if (f.group && d.group !== f.group) return false;
  if (f.event && d.eventName !== f.event && d.headers["ce-type"] !== f.event) return false;
  if (f.key && d.key !== f.key) return false;
  if (f.text && !`${d.reason}\n${d.error}`.toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

function checkStream(stream: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(stream) || stream.endsWith("_dlq"))
    throw invalidArgument("stream", `not a Chronicle stream name: ${JSON.stringify(stream)}`);
}

/**
 * Implements `chronicle.console.v1.OperationsService` over the console's
 * dependencies. Reads translate failures into ConnectErrors with the
 * reason; every destructive call needs its typed confirmation and goes
 * through the audit log.
 */
export function operationsService(deps: ConsoleDeps): Impl {
  const { conn, streams, groups, decoder, audit } = deps;

  const deadLetterEntry = async (d: DeadLetter) => {
    const stored = Date.parse(d.lastFailure);
    const event = await browsedEvent(
      {
        sequence: d.origin.sequence || 0,
        subject: d.origin.subject || d.subject,
        headers: d.headers,
        data: d.data,
        storedAt: new Date(Number.isNaN(stored) ? 0 : stored),
      },
      decoder,
    );
    return create(DeadLetterEntrySchema, {
      dlqSequence: BigInt(d.dlqSequence),
      group: d.group,
      partition: d.partition,
      eventName: d.eventName,
      key: d.key,
      originStream: d.origin.stream,
      originSubject: d.origin.subject,
      originSequence: BigInt(d.origin.sequence || 0),
      attempts: d.attempts || 0,
      reason: d.reason,
      error: d.error,
      firstFailure: d.firstFailure,
      lastFailure: d.lastFailure,
      event,
    });
  };

  return {
    ...schemaHandlers(deps),

    getSession(_req, ctx) {
      const caller = callerOf(ctx);
      return { principal: caller.name, role: caller.role, registryUrl: deps.registryUrl, natsServers: deps.natsServers, version: deps.version };
    },

    async *watchStatus(_req, ctx) {
      const queue = liveQueue<ReturnType<typeof deps.health.current>>(ctx.signal);
      queue.push(deps.health.current());
      const unsubscribe = deps.health.subscribe((s) => queue.push(s));
      try {
        for await (const states of queue) yield { dependencies: states };
      } finally {
        unsubscribe();
      }
    },

    listStreams: () => translated("listing streams", async () => ({ streams: await streams.list() })),

    async *watchStreams(req, ctx) {
      const interval = Math.max(1000, req.intervalMs || 2000);
      while (!ctx.signal.aborted) {
        yield { streams: await translated("listing streams", () => streams.list()) };
        await sleep(interval, ctx.signal);
      }
    },

    getStream: (req) =>
      translated(`reading stream ${req.name}`, async () => {
        const info = await streams.info(req.name);
        return { stream: await streams.summary(req.name), partitions: await streams.partitions(info) };
      }),

    browseMessages: (req) => translated(`reading ${req.stream}`, () => browseMessages(conn, decoder, req)),

    getMessage: (req) =>
      translated(`reading ${req.stream} #${req.sequence}`, async () => {
        const m = await conn.jsm.streams.getMessage(req.stream, { seq: Number(req.sequence) });
        if (!m) throw new ConnectError(`stream ${req.stream} has no message ${req.sequence}`, Code.NotFound);
        return { event: await browsedEvent(rawEvent(m), decoder) };
      }),

    listGroups: (req) =>
      translated("listing consumer groups", async () => ({
        groups: (await groups.list(req.stream || undefined)).map((g) => ({ ...g, lag: BigInt(g.lag) })),
      })),

    async *watchGroup(req, ctx) {
      checkStream(req.stream);
      const queue = liveQueue<{ snapshots: Awaited<ReturnType<typeof deps.groupWatch.subscribe>>["history"]; error: string }>(ctx.signal);
      const sub = deps.groupWatch.subscribe(req.stream, req.group, (snapshot, error) =>
        queue.push({ snapshots: snapshot ? [snapshot] : [], error: error ?? "" }),
      );
      try {
        yield { snapshots: sub.history, error: sub.error ?? "" };
        for await (const item of queue) yield item;
      } finally {
        sub.unsubscribe();
      }
    },

    previewRewind: (req) =>
      translated(`previewing the rewind of ${req.stream}/${req.group}`, async () => {
        checkStream(req.stream);
        const target = rewindTarget(req.to);
        const [view, info] = await Promise.all([groups.describe(req.stream, req.group), streams.info(req.stream)]);
        const redeliver = await streams.partitions(info, target.count);
        const total = redeliver.reduce((a, p) => a + p.messages, 0n);
        return {
          redeliver: redeliver.map((p) => create(PartitionStateSchema, p)),
          total,
          liveMembers: view.members
            .filter((m) => m.live)
            .map(({ counts: _counts, ...m }) => create(GroupMemberSchema, { ...m, heartbeatAgeMs: BigInt(m.heartbeatAgeMs) })),
          firstSequence: BigInt("sequence" in target.count ? Math.max(target.count.sequence, info.state.first_seq) : info.state.first_seq),
        };
      }),

    async rewindGroup(req, ctx) {
      checkStream(req.stream);
      const target = rewindTarget(req.to);
      requireConfirmation(req.confirm, `${req.stream}/${req.group}`);
      return audit
        .run(
          callerOf(ctx),
          "rewind",
          `${req.stream}/${req.group} to ${target.label}`,
          () => translated(`rewinding ${req.stream}/${req.group}`, () => groups.rewind(req.stream, req.group, target.runtime)),
          (r) => `epoch ${r.epoch}, ${r.partitions} partition(s)`,
        )
        .then((r) => ({ epoch: BigInt(r.epoch), partitions: r.partitions }));
    },

    listDeadLetters: (req) =>
      translated(`listing the dead letters of ${req.stream}`, async () => {
        const dlqStreams: string[] = [];
        for await (const name of conn.jsm.streams.names()) if (name.endsWith("_dlq")) dlqStreams.push(name.slice(0, -4));
        dlqStreams.sort();
        if (!req.stream) return { deadLetters: [], total: 0n, streams: dlqStreams };
        checkStream(req.stream);
        const limit = req.limit || 500;
        if (limit < 1 || limit > 5000) throw invalidArgument("limit", `must be 1..5000, got ${req.limit}`);
        const all = await groups.deadLetters(req.stream, { limit: 100_000, ...(req.filter?.group ? { group: req.filter.group } : {}) });
        const chosen = all.filter((d) => matches(d, req.filter)).slice(0, limit);
        return { deadLetters: await mapLimit(chosen, 16, deadLetterEntry), total: BigInt(all.length), streams: dlqStreams };
      }),

    async *redriveDeadLetters(req, ctx) {
      checkStream(req.stream);
      if (!req.group) throw invalidArgument("group", "say which group the dead letters go back to");
      let sequences = req.sequences.map(Number);
      if (sequences.length === 0) {
        const all = await translated("listing dead letters", () => groups.deadLetters(req.stream, { group: req.group, limit: 100_000 }));
        sequences = all.filter((d) => matches(d, { ...req.filter, group: req.group } as DeadLetterFilter)).map((d) => d.dlqSequence);
        requireConfirmation(req.confirm, `redrive ${sequences.length}`);
      }
      const total = sequences.length;
      const caller = callerOf(ctx);
      const progress = {
        total,
        done: 0,
        failed: 0,
        results: [] as { dlqSequence: bigint; ok: boolean; redriveSequence: bigint; error: string }[],
        finished: false,
      };
      const queue = liveQueue<typeof progress>(ctx.signal, 1_000_000);
      const work = audit.run(
        caller,
        "redrive",
        `${req.stream}_dlq to group ${req.group}: ${total} dead letter(s) (${sequences.slice(0, 20).join(", ")}${total > 20 ? ", ..." : ""})`,
        async () => {
          for (const seq of sequences) {
            let result;
            try {
              const d = await groups.deadLetter(req.stream, seq);
              if (d.group !== req.group) throw new Error(`dead letter #${seq} belongs to group ${d.group}, not ${req.group}`);
              result = { dlqSequence: BigInt(seq), ok: true, redriveSequence: BigInt(await groups.redrive(req.stream, seq)), error: "" };
            } catch (err) {
              progress.failed++;
              result = { dlqSequence: BigInt(seq), ok: false, redriveSequence: 0n, error: err instanceof Error ? err.message : String(err) };
            }
            progress.done++;
            progress.results.push(result);
            queue.push({ ...progress, results: [result] });
          }
          return progress;
        },
        (p) => `${p.done - p.failed} redriven, ${p.failed} failed`,
      );
      work.then(
        () => queue.push({ ...progress, results: [], finished: true }),
        () => queue.push({ ...progress, results: [], finished: true }),
      );
      yield { ...progress, results: [], finished: total === 0 };
      if (total === 0) return;
      for await (const p of queue) {
        yield p;
        if (p.finished) break;
      }
      await work;
    },

    async purgeDeadLetters(req, ctx) {
      checkStream(req.stream);
      requireConfirmation(req.confirm, `purge ${req.stream}${req.group ? `/${req.group}` : ""}`);
      const n = await audit.run(
        callerOf(ctx),
        "purge",
        `${req.stream}_dlq${req.group ? ` group ${req.group}` : ""}`,
        () => translated(`purging ${req.stream}_dlq`, () => groups.purge(req.stream, req.group || undefined)),
        (count) => `${count} dead letter(s) deleted`,
      );
      return { purged: BigInt(n) };
    },

    async republish(req, ctx) {
      const v = await validateRepublish(decoder, req);
      const partitions = (await translated(`reading stream ${req.stream}`, () => streams.summary(req.stream))).partitions;
      const r = await audit.run(
        callerOf(ctx),
        "republish",
        `${v.type} key ${JSON.stringify(v.key)} to ${v.stream}${req.origin ? ` (edited from ${req.origin})` : ""}`,
        () => translated(`publishing to ${req.stream}`, () => publishRepublish(conn, v, req.origin, partitions)),
        (p) => `stored as #${p.sequence} in partition ${p.partition}${p.duplicate ? " (duplicate)" : ""}`,
      );
      return { sequence: BigInt(r.sequence), partition: r.partition, id: r.id, duplicate: r.duplicate };
    },

    listAudit: (req) =>
      translated("reading the audit log", async () => ({
        entries: (await audit.list(Math.min(Math.max(req.limit || 200, 1), 2000))).map((r) => create(AuditEntrySchema, r)),
      })),
  };
}
