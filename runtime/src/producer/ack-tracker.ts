import { PermissionViolationError, type Msg, type Subscription } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../connection.js";
import { ChronicleError, ErrorCode } from "../errors.js";
import { translateNatsError } from "../nats-error.js";
import type { ReplyInbox, Wire } from "../wire/types.js";
import type { ResolvedProducerOptions } from "./options.js";
import { AWAITING_STREAM_CHECK, type PendingPublish, type SendTime } from "./pending-publish.js";
import { fastAckSequence, parseAck, pubAckPrefix } from "./pub-ack.js";
import type { PublishResult } from "./types.js";

/** After a reconnect or a leader election, "no responders" is taken for a stream still recovering, for this long. */
const RECOVERY_GRACE_MS = 30_000;
/** Wait before sending again after a retryable refusal. */
const RETRY_BACKOFF_MS = 250;
/** How long the answer to "does the stream exist?" is reused. */
const STREAM_CHECK_REUSE_MS = 1000;
/** Where JetStream announces that a stream has a new leader. */
const leaderElectedSubject = (stream: string): string => `$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${stream}`;
/** The sweep runs every quarter of the ack timeout, within these bounds (ms). */
const MIN_SWEEP_MS = 20;
const MAX_SWEEP_MS = 250;

/** How a publish ended: its result, or why it failed for good. */
export type Settle = (p: PendingPublish, error: Error | undefined, result?: PublishResult) => void;

/**
 * The producer's publishes between their first send and their
 * acknowledgement: sent under one reply inbox with a fresh token per
 * attempt, matched to their acks by token, sent again (same bytes, same
 * dedup key) when an ack is late, when the connection was lost with them in
 * flight, or after a retryable refusal, and failed for good when the
 * server refuses them or the publish timeout passes.
 */
export class AckTracker {
  readonly inbox: ReplyInbox;
  /** Publishes by reply token of their latest attempt, in send order. */
  private readonly awaiting = new Map<number, PendingPublish>();
  /** Publishes waiting out a back-off (or a stream check) before being sent again. */
  private readonly backingOff = new Set<PendingPublish>();
  private lastToken = 0;
  /** The token of the last send before the latest disconnect: publishes up to it may have lost their message or ack. */
  private lastTokenBeforeDisconnect = 0;
  /** When the stream may last have been settling (a reconnect, a leader election): "no responders" soon after is retried. */
  private settlingSince = -Infinity;
  private streamCheck: Promise<boolean> | undefined;
  private readonly sweeper: ReturnType<typeof setInterval>;
  private statusEvents: { stop?: () => void } | undefined;
  private readonly leaderChanges: Subscription | undefined;
  /** `{"stream":"<stream>","seq":`: the start of every ordinary ack. */
  private readonly ackPrefix: Uint8Array;

  constructor(
    private readonly conn: ChronicleConnection,
    private readonly wire: Wire,
    private readonly options: ResolvedProducerOptions,
    private readonly settle: Settle,
  ) {
    this.ackPrefix = pubAckPrefix(options.stream);
    this.inbox = wire.openInbox({ reply: (token, msg) => this.onReply(token, msg), error: (err) => this.onInboxError(err) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(MIN_SWEEP_MS, Math.min(MAX_SWEEP_MS, options.ackTimeoutMs / 4)));
    this.sweeper.unref?.();
    void this.watchConnection();
    this.leaderChanges = this.watchLeader();
  }

  /** Sends (or sends again) a publish under a fresh reply token. */
  send(p: PendingPublish, now: SendTime): void {
    if (p.token !== 0) this.awaiting.delete(p.token);
    if (p.retryAt !== undefined) this.backingOff.delete(p);
    p.token = ++this.lastToken;
    p.attempts++;
    p.sent = now;
    p.retryAt = undefined;
    this.awaiting.set(p.token, p);
    try {
      this.wire.publishHeaded(p, this.inbox, p.token, p.attempts === 1);
    } catch (err) {
      this.settle(p, this.sendError(p, err));
    }
  }

  /** Forgets a publish that settled. */
  forget(p: PendingPublish): void {
    this.awaiting.delete(p.token);
    if (p.retryAt !== undefined) this.backingOff.delete(p);
  }

  /** Fails every publish sent and not yet settled. */
  failAll(error: ChronicleError): void {
    for (const p of [...this.awaiting.values()]) this.settle(p, error);
  }

  /** Stops the sweeper and the inbox. */
  close(): void {
    clearInterval(this.sweeper);
    this.statusEvents?.stop?.();
    if (!this.conn.nc.isClosed()) {
      this.inbox.close();
      this.leaderChanges?.unsubscribe();
    }
  }

  private sendError(p: PendingPublish, err: unknown): ChronicleError {
    const max = this.conn.nc.info?.max_payload;
    if (max !== undefined && p.messageSize > max) {
      return new ChronicleError(ErrorCode.PayloadTooLarge, `event of ${p.payloadSize} bytes (plus headers) is over the server's max_payload of ${max} bytes`, {
        context: { stream: this.options.stream, subject: p.subject, maxPayload: max },
        cause: err,
      });
    }
    return translateNatsError(err, `publishing to ${p.subject}`, { stream: this.options.stream, subject: p.subject });
  }

  private async watchConnection(): Promise<void> {
    const events = this.conn.nc.status() as AsyncIterable<{ type: string; error?: unknown }> & { stop?: () => void };
    this.statusEvents = events;
    try {
      for await (const s of events) {
        if (s.type === "disconnect") this.lastTokenBeforeDisconnect = this.lastToken;
        else if (s.type === "reconnect") {
          this.settlingSince = performance.now();
          this.resendLost();
        } else if (s.type === "error" && s.error instanceof PermissionViolationError && s.error.operation === "publish") {
          this.failRefused(s.error.subject, s.error.message);
        }
      }
    } catch {
      // the connection closed
    }
  }

  /**
   * Listens for the stream's leader elections. Publishes on their way to a
   * leader that died, froze or was cut off get no answer at all (those sent
   * while there is no leader are answered "no responders" and retried);
   * without this the producer would send them again only at their next ack
   * timeout, up to `ackTimeoutMs` after the election. A connection not
   * allowed to subscribe to the advisory (permissions) falls back to the
   * ack timeout.
   */
  private watchLeader(): Subscription | undefined {
    try {
      return this.conn.nc.subscribe(leaderElectedSubject(this.options.stream), {
        callback: (err) => {
          if (err === null) this.resendInFlight();
        },
      });
    } catch {
      return undefined; // the connection is closing
    }
  }

  /**
   * The stream has a new leader: every publish awaiting its ack may have
   * gone to the old one, and every one backing off was refused while there
   * was none (no responders, 10158), so each is sent again at once with its
   * dedup key (one the old leader stored is answered as a duplicate, not
   * stored twice). "No responders" right after is taken for a stream still
   * settling, as after a reconnect.
   */
  private resendInFlight(): void {
    this.settlingSince = performance.now();
    this.resend([...this.awaiting.values()]);
  }

  private resend(publishes: readonly PendingPublish[]): void {
    const now: SendTime = { at: performance.now() };
    for (const p of publishes) this.send(p, now);
  }

  /**
   * The server refused to let this connection publish to `subject`: the
   * message was dropped, so its publishes fail at once with
   * `permission_denied` instead of waiting for acks that never come.
   */
  private failRefused(subject: string, reason: string): void {
    const refused = [...this.awaiting.values()].filter((p) => p.subject === subject);
    for (const p of refused) {
      this.settle(
        p,
        new ChronicleError(ErrorCode.PermissionDenied, `the server refused to let this connection publish to ${subject}: ${reason}`, {
          context: { stream: this.options.stream, subject },
        }),
      );
    }
  }

  /** The inbox subscription itself was refused (permissions): nothing sent will be answered. */
  private onInboxError(err: Error): void {
    this.failAll(translateNatsError(err, `the producer's reply inbox ${this.inbox.subject}`, { stream: this.options.stream }));
  }

  /** Sends again every publish last sent before the latest disconnect: its message or its ack may be lost. */
  private resendLost(): void {
    this.resend([...this.awaiting.values()].filter((p) => p.token <= this.lastTokenBeforeDisconnect && p.retryAt === undefined));
  }

  private onReply(token: number, msg: Msg): void {
    const p = this.awaiting.get(token);
    if (!p) return; // an ack for an attempt already answered or sent again
    const seq = fastAckSequence(msg.data, this.ackPrefix);
    if (seq !== 0) {
      this.settle(p, undefined, this.resultOf(p, this.options.stream, Math.abs(seq), seq < 0));
      return;
    }
    const outcome = parseAck(msg, { stream: this.options.stream, subject: p.subject, key: p.dedupKey });
    if (outcome.kind === "ok") this.settle(p, undefined, this.resultOf(p, outcome.stream, outcome.seq, outcome.duplicate));
    else if (outcome.kind === "error") this.retryOrFail(p, outcome.error, outcome.retryable);
    else this.onNoResponders(p);
  }

  private resultOf(p: PendingPublish, stream: string, sequence: number, duplicate: boolean): PublishResult {
    return { stream, sequence, duplicate, partition: p.partition, id: p.id, dedupKey: p.dedupKey, attempts: p.attempts };
  }

  private onNoResponders(p: PendingPublish): void {
    const stream = this.options.stream;
    const noResponders = new ChronicleError(
      ErrorCode.NoResponders,
      `nobody stores events published to ${p.subject}: no stream ${stream} (run ensureStream or "chronicle streams apply")`,
      { context: { stream, subject: p.subject } },
    );
    if (performance.now() - this.settlingSince < RECOVERY_GRACE_MS) {
      this.retryOrFail(p, noResponders, true);
      return;
    }
    // held back while we ask whether the stream exists at all
    p.retryAt = AWAITING_STREAM_CHECK;
    this.backingOff.add(p);
    this.streamCheck ??= this.conn.jsm.streams
      .info(stream)
      .then(() => true)
      .catch((err: unknown) => translateNatsError(err, "stream info").code !== ErrorCode.NotFound)
      .finally(() => setTimeout(() => (this.streamCheck = undefined), STREAM_CHECK_REUSE_MS).unref?.());
    const token = p.token;
    void this.streamCheck.then((exists) => {
      // settled, or sent again meanwhile (a leader election)
      if (p.token !== token || !this.awaiting.has(token)) return;
      if (exists) this.retryOrFail(p, noResponders, true);
      else
        this.settle(
          p,
          new ChronicleError(ErrorCode.NotFound, `stream ${stream} does not exist (run ensureStream or "chronicle streams apply")`, {
            context: { stream, subject: p.subject },
            cause: noResponders,
          }),
        );
    });
  }

  private retryOrFail(p: PendingPublish, error: ChronicleError, retryable: boolean): void {
    const now = performance.now();
    if (!retryable || now + RETRY_BACKOFF_MS >= p.first.at + this.options.publishTimeoutMs) this.settle(p, error);
    else {
      p.retryAt = { at: now + RETRY_BACKOFF_MS };
      this.backingOff.add(p);
    }
  }

  /** Sends again publishes whose ack is overdue or whose back-off ended; fails those past their deadline. */
  private sweep(): void {
    const now = performance.now();
    const due: PendingPublish[] = [];
    for (const p of this.backingOff) if (p.retryAt!.at <= now) due.push(p);
    for (const p of this.awaiting.values()) {
      if (p.retryAt !== undefined) continue;
      // in send order, so the first one not overdue ends the scan
      if (p.sent.at + this.options.ackTimeoutMs > now) break;
      due.push(p);
    }
    const stamp: SendTime = { at: now };
    for (const p of due) {
      if (now >= p.first.at + this.options.publishTimeoutMs) {
        this.settle(
          p,
          new ChronicleError(
            ErrorCode.Timeout,
            `no acknowledgement for ${p.subject} after ${p.attempts} attempts in ${this.options.publishTimeoutMs} ms; it may or may not be stored`,
            { context: { stream: this.options.stream, subject: p.subject, attempts: p.attempts } },
          ),
        );
      } else this.send(p, stamp);
    }
  }
}
