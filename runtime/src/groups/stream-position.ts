import type { ChronicleConnection } from "../connection.js";
import { translateNatsError } from "../nats-error.js";

/**
 * The floor that starts a reading of `stream` at the first event stored at
 * or after `time`: that event's sequence minus one, or the stream's last
 * sequence when nothing was stored since. The server finds the event, for a
 * short-lived consumer that starts at `time`.
 * @private
 */
export async function floorAtTime(conn: ChronicleConnection, stream: string, time: Date): Promise<number> {
  try {
    const info = await conn.jsm.streams.info(stream);
    if (info.state.messages === 0) return info.state.last_seq;
    const probe = await conn.jsm.consumers.add(stream, {
      deliver_policy: "by_start_time",
      opt_start_time: time.toISOString(),
      ack_policy: "none",
      inactive_threshold: 10_000_000_000,
      mem_storage: true,
      num_replicas: 1,
    } as never);
    try {
      const consumer = await conn.js.consumers.get(stream, probe.name);
      const m = await consumer.next({ expires: 2000 });
      return m ? m.seq - 1 : info.state.last_seq;
    } finally {
      await conn.jsm.consumers.delete(stream, probe.name).catch(() => undefined);
    }
  } catch (err) {
    throw translateNatsError(err, `cannot find the first event of ${stream} at ${time.toISOString()}`, { stream });
  }
}

/**
 * How many events of `filter` in `stream` lie after sequence `floor`,
 * counted by the server for a short-lived consumer that starts there.
 * @private
 */
export async function countAfter(conn: ChronicleConnection, stream: string, filter: string, floor: number): Promise<number> {
  const probe = await conn.jsm.consumers.add(stream, {
    filter_subject: filter,
    deliver_policy: "by_start_sequence",
    opt_start_seq: floor + 1,
    ack_policy: "none",
    inactive_threshold: 10_000_000_000,
    mem_storage: true,
    num_replicas: 1,
  } as never);
  await conn.jsm.consumers.delete(stream, probe.name).catch(() => undefined);
  return probe.num_pending;
}
