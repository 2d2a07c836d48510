import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { translateNatsError } from "../nats-error.js";
import { stateNames } from "./names.js";
import { decodeSlotRecord, encodeRecord, type GroupRecord, type SlotRecord } from "./state-records.js";

/** The last record of a subject and its sequence (0 and undefined when the subject is empty). @private */
export interface Head<R> {
  seq: number;
  record: R | undefined;
}

/**
 * Reads and writes the state stream of one stream's groups
 * (`chronicle_state_<stream>`). Every write is compare-and-set on the
 * subject's last sequence (`Nats-Expected-Last-Subject-Sequence`): it fails
 * with `wrong_last_sequence` when anyone wrote to the subject since the
 * sequence the writer knows. Reads of a subject's last record go to the
 * stream leader (not a direct get a lagging replica could answer).
 * @private
 */
export class StateLog {
  readonly name: string;

  constructor(
    private readonly conn: ChronicleConnection,
    readonly stream: string,
  ) {
    this.name = stateNames.stream(stream);
  }

  /** Creates the state stream when it does not exist, with `replicas` replicas. */
  async ensure(replicas: number): Promise<void> {
    const exists = await this.conn.jsm.streams.info(this.name).then(
      () => true,
      (err: unknown) => {
        if (translateNatsError(err, "").code === ErrorCode.NotFound) return false;
        throw translateNatsError(err, `cannot read the group state stream ${this.name}`, { stream: this.stream });
      },
    );
    if (exists) return;
    try {
      await this.conn.jsm.streams.add({
        name: this.name,
        subjects: [stateNames.filter(this.stream)],
        storage: "file",
        num_replicas: replicas,
        retention: "limits",
        discard: "old",
        // admin tools read every slot of a group in one batched direct get; members read through the leader
        allow_direct: true,
        description: `consumer group state of stream ${this.stream} (Chronicle)`,
      } as never);
    } catch (err) {
      // another member created it meanwhile
      const again = await this.conn.jsm.streams.info(this.name).catch(() => undefined);
      if (!again) throw translateNatsError(err, `cannot create the group state stream ${this.name}`, { stream: this.stream });
    }
  }

  /** The last record of `subject`; `decode` turns its bytes into a record (undefined when it is not one). */
  async head<R>(subject: string, decode: (data: Uint8Array) => R | undefined): Promise<Head<R>> {
    try {
      const m = await this.conn.jsm.streams.getMessage(this.name, { last_by_subj: subject });
      return m ? { seq: m.seq, record: decode(m.data) } : { seq: 0, record: undefined };
    } catch (err) {
      throw translateNatsError(err, `cannot read ${subject}`, { stream: this.stream, subject });
    }
  }

  /**
   * The last record of every subject matching `filter`, by subject, in one
   * batched direct get (any replica may answer: for tools, not for claims).
   * Falls back to one read per subject of `subjects` when direct gets are
   * not available.
   */
  async heads<R>(filter: string, subjects: readonly string[], decode: (data: Uint8Array) => R | undefined): Promise<Map<string, Head<R>>> {
    const out = new Map<string, Head<R>>();
    try {
      const batch = await this.conn.jsm.direct.getLastMessagesFor(this.name, { multi_last: [filter] });
      for await (const m of batch) out.set(m.subject, { seq: m.seq, record: decode(m.data) });
      return out;
    } catch {
      for (const subject of subjects) out.set(subject, await this.head(subject, decode));
      return out;
    }
  }

  /** Writes `record` to `subject` if its last sequence is still `expected`; returns the record's sequence. */
  async write(subject: string, record: SlotRecord | GroupRecord, expected: number, timeoutMs: number): Promise<number> {
    try {
      const ack = await this.conn.js.publish(subject, encodeRecord(record), { expect: { lastSubjectSequence: expected }, timeout: timeoutMs });
      return ack.seq;
    } catch (err) {
      throw translateNatsError(err, `cannot write the ${record.kind} record of ${subject}`, { stream: this.stream, subject });
    }
  }

  /**
   * Every record of `subject` up to sequence `upTo`, oldest first, read
   * through an ordered consumer. Bytes that are not a record are passed to
   * `bad` and skipped.
   */
  async readSlot(subject: string, upTo: number, bad: (seq: number) => void, timeoutMs = 30_000): Promise<{ seq: number; record: SlotRecord }[]> {
    const out: { seq: number; record: SlotRecord }[] = [];
    if (upTo <= 0) return out;
    try {
      const consumer = await this.conn.js.consumers.get(this.name, { filter_subjects: [subject] });
      const messages = await consumer.consume({ max_messages: 256 });
      // a read that does not finish (its consumer lost in a reconnect) gives the claim up rather than hold it forever
      const timer = setTimeout(() => void messages.close().catch(() => undefined), timeoutMs);
      try {
        for await (const m of messages) {
          const record = decodeSlotRecord(m.data);
          if (record) out.push({ seq: m.seq, record });
          else bad(m.seq);
          if (m.seq >= upTo || m.info.pending === 0) break;
        }
      } finally {
        clearTimeout(timer);
        await messages.close().catch(() => undefined);
      }
    } catch (err) {
      throw translateNatsError(err, `cannot read the records of ${subject}`, { stream: this.stream, subject });
    }
    if (out.length === 0 || out[out.length - 1]!.seq < upTo)
      throw new ChronicleError(ErrorCode.Unavailable, `cannot read the records of ${subject} up to #${upTo} (read ${out.length})`, {
        context: { stream: this.stream, subject },
      });
    return out;
  }

  /** Removes the records of `subject` below sequence `seq` (after a snapshot that starts at `seq`). */
  async purgeBelow(subject: string, seq: number): Promise<void> {
    try {
      await this.conn.jsm.streams.purge(this.name, { filter: subject, seq });
    } catch (err) {
      throw translateNatsError(err, `cannot compact ${subject}`, { stream: this.stream, subject });
    }
  }
}
