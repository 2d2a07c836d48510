import { createInbox, headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { ChronicleError, ErrorCode, Headers } from "@chronicle/runtime";

/** An outbox row as the relay reads it. @private */
export interface StoredRow {
  seq: number;
  id: string;
  stream: string;
  subject: string;
  key: string;
  headers: string;
  payload: Uint8Array;
}

/** What publishing a batch achieved. @private */
export interface BatchOutcome {
  /** Rows the stream acknowledged (stored, or recognised as duplicates). */
  acked: number[];
  /** Of those, how many were duplicates (already stored inside the duplicate window). */
  duplicates: number;
  /** The first error, when some rows were not acknowledged. */
  error: Error | undefined;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The row's NATS header block, encoded once: nats.js only calls `encode()`
 * on the headers it is given (the runtime producer relies on the same), and
 * building the text directly skips a `MsgHdrs` map and its validation per
 * row. The values were checked when the row was written (no CR/LF, no edge
 * white space); a row written by other means falls back to `MsgHdrs`.
 */
function headerBlock(row: StoredRow): MsgHdrs {
  const fields = JSON.parse(row.headers) as Record<string, string>;
  let text = "NATS/1.0\r\n";
  let safe = true;
  for (const [k, v] of Object.entries(fields)) {
    if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) safe = false;
    text += `${k}: ${v}\r\n`;
  }
  if (/[\r\n]/.test(row.id)) safe = false;
  if (!safe) {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(fields)) h.set(k, v);
    h.set(Headers.MsgId, row.id);
    return h;
  }
  const bytes = encoder.encode(`${text}${Headers.MsgId}: ${row.id}\r\n\r\n`);
  return { encode: () => bytes } as unknown as MsgHdrs;
}

/**
 * Publishes outbox rows with acknowledgements, pipelined across keys and one
 * at a time per key: a key's next row is sent only after the previous one
 * was acknowledged, so the first stored copy of every row follows the rows
 * before it of the same key, whatever fails, retries or runs twice. When a
 * row of a key is not acknowledged, the key's later rows of the batch are
 * not sent. Acks come back on one wildcard inbox subscription. @private
 */
export class RowPublisher {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, (reply: { ok: boolean; duplicate: boolean; error?: Error }) => void>();
  private counter = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly ackTimeoutMs: number,
  ) {
    this.prefix = createInbox();
    this.sub = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        const done = this.pending.get(msg.subject.slice(this.prefix.length + 1));
        if (!done) return;
        this.pending.delete(msg.subject.slice(this.prefix.length + 1));
        if (err) return done({ ok: false, duplicate: false, error: err });
        const h = msg.headers;
        if (h && h.hasError && msg.data.length === 0) {
          return done({
            ok: false,
            duplicate: false,
            error: new ChronicleError(h.code === 503 ? ErrorCode.NoResponders : ErrorCode.Unavailable, `publish failed: ${h.code} ${h.description}`),
          });
        }
        try {
          const body = JSON.parse(decoder.decode(msg.data)) as { duplicate?: boolean; error?: { description?: string } };
          if (body.error)
            done({ ok: false, duplicate: false, error: new ChronicleError(ErrorCode.Unavailable, `publish refused: ${body.error.description ?? "unknown"}`) });
          else done({ ok: true, duplicate: body.duplicate === true });
        } catch (e) {
          done({ ok: false, duplicate: false, error: e as Error });
        }
      },
    });
  }

  private publishOne(row: StoredRow): Promise<{ ok: boolean; duplicate: boolean; error?: Error }> {
    const token = (this.counter++).toString(36);
    const h = headerBlock(row);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(token))
          resolve({
            ok: false,
            duplicate: false,
            error: new ChronicleError(ErrorCode.Timeout, `no acknowledgement for ${row.subject} in ${this.ackTimeoutMs} ms`),
          });
      }, this.ackTimeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      try {
        this.nc.publish(row.subject, row.payload, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (err) {
        this.pending.delete(token);
        clearTimeout(timer);
        resolve({ ok: false, duplicate: false, error: err as Error });
      }
    });
  }

  /** Publishes rows (in `seq` order) chained per key, at most `maxInFlight` at once. */
  async publishBatch(rows: StoredRow[], maxInFlight: number): Promise<BatchOutcome> {
    const chains = new Map<string, StoredRow[]>();
    for (const r of rows) {
      const k = `${r.stream}\n${r.key}`;
      const c = chains.get(k);
      if (c) c.push(r);
      else chains.set(k, [r]);
    }
    const queue = [...chains.values()];
    const acked: number[] = [];
    let duplicates = 0;
    let error: Error | undefined;
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const chain = queue[next++]!;
        for (const row of chain) {
          const r = await this.publishOne(row);
          if (!r.ok) {
            error ??= r.error;
            break;
          }
          if (r.duplicate) duplicates++;
          acked.push(row.seq);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxInFlight, queue.length) }, worker));
    return { acked, duplicates, error };
  }

  close(): void {
    if (!this.nc.isClosed()) this.sub.unsubscribe();
  }
}
