import type { ChronicleConnection } from "../connection.js";
import { ErrorCode, isChronicleError } from "../errors.js";
import { stateNames, type StartPosition } from "./names.js";
import type { StateLog } from "./state-log.js";
import { decodeGroupRecord, type GroupRecord } from "./state-records.js";
import { floorAtTime } from "./stream-position.js";

/** The floor a new group starts from: after everything stored before `start`. @private */
export async function startFloor(conn: ChronicleConnection, stream: string, start: StartPosition, lastSeq: number): Promise<number> {
  if (start === "beginning") return 0;
  if (start === "now") return lastSeq;
  if (start instanceof Date) return floorAtTime(conn, stream, start);
  return Math.max(0, start.sequence - 1);
}

/** How long a member starting on a new state stream waits for the stream to take writes, ms. */
const SETTLE_MS = 10_000;

/**
 * The group's record, written by the first member of a new group
 * (compare-and-set on an empty subject, so members starting together agree
 * on one start position) and read by every later one.
 * @private
 */
export async function ensureGroupRecord(log: StateLog, group: string, floor: () => Promise<number>, timeoutMs: number): Promise<GroupRecord> {
  const subject = stateNames.group(log.stream, group);
  // a state stream created a moment ago may not yet be known on the server this connection uses: its
  // writes get no responders there (seen on a cluster just started) until the stream's interest reaches it
  const settleBy = Date.now() + SETTLE_MS;
  for (;;) {
    const head = await log.head(subject, decodeGroupRecord);
    if (head.record) return head.record;
    const record: GroupRecord = { kind: "group", floor: await floor(), epoch: 0, at: Date.now() };
    try {
      await log.write(subject, record, head.seq, timeoutMs);
      return record;
    } catch (err) {
      if (isChronicleError(err, ErrorCode.NoResponders) && Date.now() < settleBy) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (!isChronicleError(err, ErrorCode.WrongLastSequence)) throw err;
    }
  }
}
