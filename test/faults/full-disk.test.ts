// Issue #22, full disk: a JetStream store on a small tmpfs that fills up
// while events, idempotency records and dead letters are written. Promises:
// the writer gets a documented error within its timeout (not a hang),
// nothing acknowledged is lost, nothing is stored twice once writing resumes
// (dedup ids survive), and writing resumes once space is freed (after a
// restart of the node: nats-server keeps a stream that hit ENOSPC closed to
// writes until then, see docs/reliability.md).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { connect, createKvIdempotencyStore, createProducer, ErrorCode, isChronicleError, type ChronicleConnection } from "@chronicle/runtime";
import { mountSmallDisk, smallDiskSupport, startLocalCluster, startLocalServer, type SmallDisk } from "@chronicle/testing";
import { publishDeadLetter } from "../../runtime/src/dead-letter/publish.js";
import { notes, noteStream, provision, publishAll } from "../reliability/helpers.js";
import { BREAK, checkStream, leadOn, replicasAgree, startPublishing, waitFor } from "./helpers.js";

const support = smallDiskSupport();
if (!support.ok) console.warn(`skipping the full-disk tests: ${support.reason}`);

// CHRONICLE_RELIABILITY_BREAK=hang: timeouts of 10 minutes (the producer's publish timeout, the KV store's,
// the JetStream client's), so a writer facing a full disk waits instead of failing: the tests must see it
const HANG = BREAK === "hang";
const PUBLISH_TIMEOUT_MS = HANG ? 600_000 : 5000;
/** Slack over a writer's own timeout before its error counts as late, for a busy 2-core machine. */
const SLACK_MS = 5000;

const disks: SmallDisk[] = [];
afterAll(async () => {
  for (const d of disks) await d.unmount();
});
function disk(sizeMiB: number, dir?: string): SmallDisk {
  const d = mountSmallDisk({ sizeBytes: sizeMiB << 20, ...(dir ? { dir } : {}) });
  disks.push(d);
  return d;
}

async function chronicleConnection(servers: string | string[]): Promise<ChronicleConnection> {
  return connect({ servers, timeoutMs: HANG ? 600_000 : 5000 });
}

describe.skipIf(!support.ok)("a full disk", () => {
  it(
    "a single node's store fills up while publishing: publishes fail with timeout, not a hang; after space is freed and a restart, publishing resumes",
    { timeout: 120_000 },
    async () => {
      const d = disk(24);
      await using server = await startLocalServer({ storeDir: d.dir });
      await using conn = await chronicleConnection(server.url);
      const def = noteStream("disk", 4, 1);
      await provision(conn, def);
      const load = startPublishing(conn, def, { ratePerSec: 2000, publishTimeoutMs: PUBLISH_TIMEOUT_MS });
      expect(await waitFor(() => load.acked.size >= 2000, 30_000)).toBe(true);
      d.fill();
      const filledAt = Date.now();
      const ackedAtFill = load.acked.size;
      const failedInTime = await waitFor(() => load.failed.length > 0, PUBLISH_TIMEOUT_MS + SLACK_MS);
      const firstErrorMs = load.failed[0] ? load.failed[0].at - filledAt : -1;
      await waitFor(() => load.failed.length >= 100, PUBLISH_TIMEOUT_MS + SLACK_MS);
      const stopping = load.stop();
      const settled = await Promise.race([stopping.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), PUBLISH_TIMEOUT_MS + SLACK_MS))]);
      const codes = new Set(load.failed.map((f) => (isChronicleError(f.error) ? f.error.code : f.error.name)));
      const beforeFill = [...load.acked.keys()].slice(0, 1000);

      // space freed: nats-server still refuses the stream until it restarts (no answer at all)
      d.free();
      const probe = createProducer(conn, def, { ackTimeoutMs: 1000, publishTimeoutMs: 3000 });
      const withoutRestart = await probe.publish("Note", { value: "after-free:0" }).then(
        () => "stored",
        (err: unknown) => (isChronicleError(err) ? err.code : String(err)),
      );
      await probe.close();
      await server.restart();
      const after = await publishAll(conn, def, notes(500, 10, "r"));
      const again = await publishAll(conn, def, beforeFill);
      const storedAgain = [...again.acked.values()].filter((r) => !r.duplicate).length;
      const check = await checkStream(conn, "disk", [...load.acked.keys(), ...after.acked.keys()]);
      console.log(
        `full disk, single node: ackedBeforeFill=${ackedAtFill} acked=${load.acked.size} failed=${load.failed.length} codes=${[...codes].join(",")} ` +
          `firstErrorAfterFillMs=${firstErrorMs} settledAfterStop=${settled} publishAfterFreeWithoutRestart=${withoutRestart} ` +
          `afterRestart=${after.acked.size}/500 resentStoredAgain=${storedAgain} lost=${check.lost.length} twice=${check.twice.length}`,
      );
      expect(failedInTime, `a publish failed within ${PUBLISH_TIMEOUT_MS + SLACK_MS} ms of the disk filling up`).toBe(true);
      expect(settled, "every publish in flight settled within its timeout").toBe(true);
      expect([...codes]).toEqual([ErrorCode.Timeout]);
      expect(after.failed).toEqual([]);
      expect(storedAgain).toBe(0);
      expect(check.lost).toEqual([]);
      expect(check.twice).toEqual([]);
    },
  );

  it(
    "the idempotency KV bucket's disk fills up: records fail with unavailable within the store's timeout; recorded keys stay recorded",
    { timeout: 90_000 },
    async () => {
      const d = disk(24);
      await using server = await startLocalServer({ storeDir: d.dir });
      await using conn = await chronicleConnection(server.url);
      const timeoutMs = HANG ? 600_000 : 2000;
      const store = await createKvIdempotencyStore(conn, { bucket: "idem_disk", timeoutMs });
      const before = Array.from({ length: 500 }, (_, i) => `before-${i}`);
      await Promise.all(before.map((k) => store.markDone(k)));
      d.fill();
      const t0 = Date.now();
      const during = Array.from({ length: 50 }, (_, i) => `during-${i}`);
      const results = await Promise.race([
        Promise.allSettled(during.map((k) => store.markDone(k))),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs + SLACK_MS)),
      ]);
      const failedMs = Date.now() - t0;
      const lookups = await Promise.all(before.slice(0, 100).map((k) => store.isDone(k)));
      d.free();
      await server.restart();
      const retried = await Promise.allSettled(during.map((k) => store.markDone(k)));
      const afterRestart = await Promise.all([...before, ...during].map((k) => store.isDone(k)));
      await store.close?.();
      const codes = new Set(results?.map((r) => (r.status === "rejected" ? ((r.reason as { code?: string }).code ?? "?") : "stored")) ?? []);
      console.log(
        `full disk, KV store: records while full ${results ? [...codes].join(",") : "no answer"} after ${failedMs} ms; lookups of earlier records while full ${lookups.filter(Boolean).length}/100 done; ` +
          `after free and restart: records ${retried.filter((r) => r.status === "fulfilled").length}/50, recorded ${afterRestart.filter(Boolean).length}/${afterRestart.length}`,
      );
      expect(results, `records answered within ${timeoutMs + SLACK_MS} ms`).toBeDefined();
      // records that still fit in the block being written are stored; the rest fail
      expect([...codes].filter((c) => c !== "stored")).toEqual([ErrorCode.Unavailable]);
      expect(lookups.every(Boolean)).toBe(true);
      expect(retried.every((r) => r.status === "fulfilled")).toBe(true);
      expect(afterRestart.every(Boolean)).toBe(true);
    },
  );

  it(
    "the dead-letter stream's disk fills up: a dead letter fails with unavailable (the original is then not terminated); stored once after the restart",
    { timeout: 90_000 },
    async () => {
      const d = disk(24);
      await using server = await startLocalServer({ storeDir: d.dir });
      await using conn = await chronicleConnection(server.url);
      const def = noteStream("dl", 2, 1);
      await provision(conn, def);
      const letter = (i: number) => ({
        stream: "dl",
        subject: `dl.0.Note.k${i}`,
        sequence: i + 1,
        partition: 0,
        eventName: "Note",
        keyToken: `k${i}`,
        group: "g",
        attempts: 3,
        error: "handler failed",
        reason: "attempts_exhausted" as const,
        firstFailure: new Date(),
        lastFailure: new Date(),
        data: toBinary(StringValueSchema, create(StringValueSchema, { value: `k${i}:0` })),
        headers: undefined,
        dedupKey: `g:dl:${i + 1}`,
      });
      for (let i = 0; i < 20; i++) await publishDeadLetter(conn, letter(i));
      d.fill();
      const t0 = Date.now();
      const during = await Promise.race([
        Promise.allSettled(Array.from({ length: 50 }, (_, i) => publishDeadLetter(conn, letter(20 + i)))),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000 + SLACK_MS)),
      ]);
      const failedMs = Date.now() - t0;
      d.free();
      await server.restart();
      // a consumer publishes a dead letter again until it is stored, and only then terminates the original:
      // the same dedup keys (the first attempt after the restart may go down with the old connection)
      for (let i = 0; i < 70; i++) {
        for (let attempt = 0; ; attempt++) {
          try {
            await publishDeadLetter(conn, letter(i));
            break;
          } catch (err) {
            if (attempt >= 5) throw err;
          }
        }
      }
      const check = await checkStream(
        conn,
        "dl_dlq",
        Array.from({ length: 70 }, (_, i) => `k${i}:0`),
      );
      const codes = new Set(during?.map((r) => (r.status === "rejected" ? ((r.reason as { code?: string }).code ?? "?") : "stored")) ?? []);
      console.log(
        `full disk, dead letters: while full ${during ? [...codes].join(",") : "no answer"} after ${failedMs} ms; after restart stored ${check.stored}/70, lost ${check.lost.length}, twice ${check.twice.length}`,
      );
      expect(during, "dead letters answered within 10 s").toBeDefined();
      // dead letters that still fit in the block being written are stored; the rest fail
      expect([...codes].filter((c) => c !== "stored")).toEqual([ErrorCode.Unavailable]);
      expect(check.lost).toEqual([]);
      expect(check.twice).toEqual([]);
    },
  );

  it(
    "the stream leader's disk fills up in a 3-node cluster: it leaves, another node leads, publishing goes on; it rejoins after space is freed and a restart",
    { timeout: 180_000 },
    async () => {
      const base = mkdtempSync(join(tmpdir(), "chronicle-fulldisk-"));
      mkdirSync(join(base, "n1"));
      const d = disk(32, join(base, "n1"));
      try {
        await using cluster = await startLocalCluster({ nodes: 3, storeDir: base });
        await using conn = await chronicleConnection(cluster.urls);
        const def = noteStream("diskr3", 4, 3);
        await provision(conn, def);
        // n1, the node with the small disk, leads the stream
        await leadOn(conn, "diskr3", "n1");
        const load = startPublishing(conn, def, { ratePerSec: 1000 });
        expect(await waitFor(() => load.acked.size >= 2000, 30_000)).toBe(true);
        d.fill();
        const filledAt = Date.now();
        const ackedAtFill = load.acked.size;
        const resumed = await waitFor(() => load.acked.size >= ackedAtFill + 2000, 60_000);
        const stallMs = load.longestGap(filledAt);
        let leaderAfter: string | undefined;
        await waitFor(async () => (leaderAfter = (await conn.jsm.streams.info("diskr3").catch(() => undefined))?.cluster?.leader) !== undefined, 30_000, 250);
        await load.stop();
        d.free();
        await cluster.server("n1").restart();
        const states = await replicasAgree(cluster, "diskr3", 60_000);
        const report = await checkStream(conn, "diskr3", load.acked.keys());
        console.log(
          `full disk, stream leader of 3: leader after ${leaderAfter} stallMs=${stallMs} acked=${load.acked.size} failed=${load.failed.length} ` +
            `lost=${report.lost.length} twice=${report.twice.length} replicas after restart ${states.map((s) => `${s.node}:${s.lastSeq}`).join(" ")}`,
        );
        expect(resumed, "publishing went on without the full node").toBe(true);
        expect(leaderAfter).not.toBe("n1");
        expect(load.failed.map((f) => f.error.message)).toEqual([]);
        expect(report.lost).toEqual([]);
        expect(report.twice).toEqual([]);
      } finally {
        await d.unmount();
        rmSync(base, { recursive: true, force: true });
      }
    },
  );
});
