import { describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { ChronicleError, ErrorCode } from "../errors.js";
import { connect, type ChronicleConnection } from "../index.js";
import { claimSlot } from "./claim-slot.js";
import type { MemberContext, MemberTiming } from "./member-context.js";
import { stateNames } from "./names.js";
import { SlotObservations } from "./slot-observations.js";
import { SlotWriter } from "./slot-writer.js";
import { StateLog } from "./state-log.js";
import { decodeSlotRecord, type SlotRecord } from "./state-records.js";

const timing: MemberTiming = { heartbeatMs: 100, sessionTimeoutMs: 400, leaseMs: 400, marginMs: 100, writeTimeoutMs: 1000 };

/** The parts of a member's context that claims and writes use. */
function memberOf(conn: ChronicleConnection, log: StateLog, memberId: string, errors: unknown[] = []): MemberContext {
  return { conn, log, stream: log.stream, group: "g", memberId, timing, onError: (e: unknown) => errors.push(e) } as unknown as MemberContext;
}

const checkpoint = (token: string) => (write: number) =>
  ({ kind: "checkpoint", member: "a", token, consumer: "c", floor: 0, held: 0, at: Date.now(), write }) as SlotRecord;

describe("fenced slot ownership", () => {
  it("two members claiming a free slot at once: one wins, the other waits for the winner's lease", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const log = new StateLog(conn, "fence1");
    await log.ensure(1);
    let wanted = true;
    const claims = ["a", "b"].map((id) => claimSlot(memberOf(conn, log, id), 0, 0, new SlotObservations(), () => wanted));
    const first = await Promise.race(claims);
    const head = await log.head(stateNames.slot("fence1", "g", 0), decodeSlotRecord);
    expect(head.record).toMatchObject({ kind: "claim", token: first!.token });
    // the loser waits: nothing is written over the winner's claim for a lease
    await new Promise((r) => setTimeout(r, timing.leaseMs / 2));
    expect((await log.head(stateNames.slot("fence1", "g", 0), decodeSlotRecord)).seq).toBe(head.seq);
    wanted = false;
    const results = await Promise.all(claims);
    expect(results.filter((c) => c !== undefined)).toHaveLength(1);
  });

  it(
    "an owner that renews every heartbeat is never taken over; one that stops is, one lease later, and its next write is fenced",
    { timeout: 30_000 },
    async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url });
      const log = new StateLog(conn, "fence2");
      await log.ensure(1);
      const subject = stateNames.slot("fence2", "g", 0);
      const a = (await claimSlot(memberOf(conn, log, "a"), 0, 0, new SlotObservations(), () => true))!;
      const writer = new SlotWriter(
        log,
        subject,
        a.token,
        timing,
        a.seq,
        a.sentAt,
        () => false,
        () => undefined,
      );
      let renewing = true;
      const renewals = (async () => {
        while (renewing) {
          expect(await writer.write(checkpoint(a.token))).toBe("stored");
          await new Promise((r) => setTimeout(r, timing.heartbeatMs));
        }
      })();
      let taken = false;
      const b = claimSlot(memberOf(conn, log, "b"), 0, 0, new SlotObservations(), () => true).then((c) => {
        taken = true;
        return c!;
      });
      await new Promise((r) => setTimeout(r, timing.leaseMs * 4));
      expect(taken, "a live owner was taken over").toBe(false);
      renewing = false;
      await renewals;
      const stoppedAt = performance.now();
      const claim = await b;
      const claimedAt = performance.now();
      expect(claimedAt - stoppedAt).toBeGreaterThanOrEqual(timing.leaseMs - timing.heartbeatMs - 20);
      // the old owner's lease ended before the claim was even sent
      expect(writer.leaseUntil).toBeLessThanOrEqual(claim.sentAt);
      expect(writer.leaseHolds()).toBe(false);
      expect(await writer.write(checkpoint(a.token))).toBe("fenced");
      expect(writer.fenced).toBe(true);
      const head = await log.head(subject, decodeSlotRecord);
      expect(head.record).toMatchObject({ kind: "claim", token: claim.token });
    },
  );

  it("a write stored whose answer was lost counts as stored, not as fenced", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    // a state log whose first write is stored but answered with a timeout, as when a reconnect cuts the answer off
    class LosingLog extends StateLog {
      lost = 0;
      override async write(subject: string, record: SlotRecord, expected: number, timeoutMs: number): Promise<number> {
        const seq = await super.write(subject, record, expected, timeoutMs);
        if (this.lost++ === 0) throw new ChronicleError(ErrorCode.Timeout, "no answer");
        return seq;
      }
    }
    const log = new LosingLog(conn, "fence3");
    await log.ensure(1);
    const subject = stateNames.slot("fence3", "g", 0);
    const claimSeq = await new StateLog(conn, "fence3").write(subject, checkpoint("t")(0), 0, 1000);
    const writer = new SlotWriter(
      log,
      subject,
      "t",
      timing,
      claimSeq,
      performance.now(),
      () => false,
      () => undefined,
    );
    expect(await writer.write(checkpoint("t"))).toBe("stored");
    const head = await log.head(subject, decodeSlotRecord);
    expect(writer.lastSeq).toBe(head.seq);
    expect(head.record).toMatchObject({ token: "t", write: 1 });
    expect(await writer.write(checkpoint("t"))).toBe("stored");
  });
});
