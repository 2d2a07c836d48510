import { Kvm, type KV, type KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import type { ChronicleConnection } from "../connection.js";
import { GROUPS_BUCKET, groupKeyPrefix, memberKey } from "./names.js";

/** What a member writes into its heartbeat entry. */
export interface MemberInfo {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  /** The member's session timeout: tools count it dead when its heartbeat is older. */
  sessionTimeoutMs: number;
  /**
   * The member's counters since it started, as of this heartbeat, so that
   * tools (the console, `chronicle groups describe`) can show a group's
   * handled, failed and dead-lettered rates without reaching its process.
   */
  counts?: MemberCounts;
}

/** Events a member handled, handler runs that failed, and events it dead-lettered, since it started. */
export interface MemberCounts {
  handled: number;
  failed: number;
  deadLettered: number;
}

/** Opens (creating when missing) the KV bucket of group memberships. @private */
export async function openGroupsBucket(conn: ChronicleConnection, replicas = 1): Promise<KV> {
  const kvm = new Kvm(conn.js);
  try {
    const kv = await kvm.open(GROUPS_BUCKET);
    await kv.status();
    return kv;
  } catch {
    return kvm.create(GROUPS_BUCKET, { history: 1, replicas });
  }
}

/**
 * A member's presence in a group: a heartbeat entry in the groups bucket
 * every `heartbeatMs`, and a watch over the other members' entries. A
 * member is live while its last heartbeat is younger than
 * `sessionTimeoutMs` (measured on this member's clock from when the
 * heartbeat arrived, so clock skew between hosts does not matter); a member
 * that leaves deletes its entry, which every other member sees at once.
 *
 * The watch is a JetStream ordered consumer, which can disappear on the
 * server (deleted, or lost across a server restart) without nats.js noticing
 * for two of its idle heartbeats (10 s, then 60 s once it has recreated the
 * consumer): longer than a session timeout, and meanwhile joins and leaves
 * would go unseen. So each of this member's own heartbeats must come back
 * through the watch within {@link Membership.echoTimeoutMs}; when one does
 * not, the member re-creates the watch and re-reads the group's entries.
 * @private
 */
export class Membership {
  /**
   * How long a heartbeat may take to come back through the watch after its
   * write was acknowledged before the watch is taken for dead: two
   * heartbeats, at least half a session timeout.
   */
  readonly echoTimeoutMs: number;
  private readonly lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private live: string[] = [];
  private closed = false;
  /** The highest revision of this member's entry that came back through the watch. */
  private echoedRevision = 0;
  /** The oldest heartbeat written and not yet seen on the watch, with when its write was acknowledged. */
  private unechoed: { revision: number; at: number } | undefined;
  /**
   * This member's latest heartbeat: its entry's revision, and when (on the
   * monotonic clock) the server acknowledged it. Its entry's write time is
   * on the server's clock: together they place other entries' write times
   * on this member's monotonic clock without reading its wall clock.
   */
  private lastBeat: { revision: number; at: number } | undefined;
  private rewatching: Promise<void> | undefined;
  private rewatchCount = 0;
  /**
   * Set once `join` has read the group's entries. Until then the watch only
   * records what it sees: this member's own heartbeat coming back before the
   * read made a first view of this member alone, and the member took every
   * partition, resetting and unpinning the consumers the others were reading
   * (their events in flight then ran twice).
   */
  private joined = false;

  constructor(
    private readonly kv: KV,
    private readonly stream: string,
    private readonly group: string,
    readonly info: MemberInfo,
    private readonly heartbeatMs: number,
    private readonly sessionTimeoutMs: number,
    private readonly onChange: (members: string[]) => void,
    /** Read at each heartbeat: the counters it carries. */
    private readonly counts?: () => MemberCounts,
  ) {
    this.echoTimeoutMs = Math.max(2 * heartbeatMs, Math.floor(sessionTimeoutMs / 2));
  }

  /** The live members, sorted. */
  members(): string[] {
    return this.live;
  }

  /** How many times the watch was re-created because this member's heartbeats stopped coming back through it. */
  rewatches(): number {
    return this.rewatchCount;
  }

  /** Announces this member, learns the others and starts heart-beating. */
  async join(): Promise<void> {
    await this.watch();
    await this.beat();
    await this.readMembers();
    this.lastSeen.set(this.info.id, performance.now());
    this.joined = true;
    this.evaluate();
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
  }

  /** Deletes this member's entry and stops heart-beating and watching. */
  async leave(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.stop();
    await this.kv.delete(memberKey(this.stream, this.group, this.info.id)).catch(() => undefined);
  }

  /** Starts a watch over the group's member entries (updates only) in place of the current one. */
  private async watch(): Promise<void> {
    const watch = await this.kv.watch({ key: `${groupKeyPrefix(this.stream, this.group)}.m.>`, include: "updates" });
    const previous = this.watcher;
    this.watcher = watch;
    previous?.stop();
    // heartbeats written before this watch started never come back through it
    this.unechoed = undefined;
    if (this.closed) watch.stop();
    else void this.consumeWatch(watch);
  }

  /**
   * Reads every member entry of the group: an entry's write time counts as
   * a heartbeat, and a member whose entry is gone (it left while the watch
   * was not delivering) is forgotten unless the watch has seen it since.
   */
  private async readMembers(): Promise<void> {
    const prefix = groupKeyPrefix(this.stream, this.group);
    const startedAt = performance.now();
    const present = new Set<string>();
    const entries: { id: string; created: number; revision: number }[] = [];
    const keys = await this.kv.keys(`${prefix}.m.>`);
    for await (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== "PUT") continue;
      entries.push({ id: k.slice(prefix.length + 3), created: e.created.getTime(), revision: e.revision });
    }
    // Entries are dated by the server's clock. This member's own entry, written by the heartbeat it
    // last saw acknowledged, says where that clock was at a known monotonic time: each entry's age is
    // then measured on the server's clock alone, whatever this member's wall clock says (a member an
    // hour ahead took every other member for dead). Without it, by this member's wall clock.
    const own = entries.find((e) => e.id === this.info.id);
    const beat = this.lastBeat;
    const reference = own && beat?.revision === own.revision ? { server: own.created, at: beat.at } : { server: Date.now(), at: performance.now() };
    for (const e of entries) {
      present.add(e.id);
      const written = reference.at - Math.max(0, reference.server - e.created);
      this.lastSeen.set(e.id, Math.max(this.lastSeen.get(e.id) ?? 0, written));
    }
    for (const [id, at] of this.lastSeen) {
      if (id !== this.info.id && !present.has(id) && at < startedAt) this.lastSeen.delete(id);
    }
  }

  private async consumeWatch(watch: QueuedIterator<KvWatchEntry>): Promise<void> {
    const prefix = groupKeyPrefix(this.stream, this.group);
    try {
      for await (const e of watch) {
        if (watch !== this.watcher) break;
        const id = e.key.slice(prefix.length + 3);
        if (e.operation === "PUT") {
          this.lastSeen.set(id, performance.now());
          if (id === this.info.id) this.echoed(e.revision);
        } else if (id !== this.info.id) this.lastSeen.delete(id);
        this.evaluate();
      }
    } catch {
      // the watch ends when the connection closes; tick() keeps evaluating
    }
  }

  private echoed(revision: number): void {
    this.echoedRevision = Math.max(this.echoedRevision, revision);
    if (this.unechoed && revision >= this.unechoed.revision) this.unechoed = undefined;
  }

  private async beat(): Promise<void> {
    const revision = await this.kv.put(
      memberKey(this.stream, this.group, this.info.id),
      JSON.stringify(this.counts ? { ...this.info, counts: this.counts() } : this.info),
    );
    this.lastBeat = { revision, at: performance.now() };
    if (revision > this.echoedRevision && !this.unechoed) this.unechoed = { revision, at: performance.now() };
  }

  /** Re-creates the watch and re-reads the members; one at a time, a failure is retried by the next tick. */
  private rewatch(): Promise<void> {
    this.rewatching ??= (async () => {
      try {
        await this.watch();
        this.rewatchCount++;
        await this.readMembers();
        this.evaluate();
      } catch {
        // the server is unreachable or busy: the next unechoed heartbeat tries again
      } finally {
        this.rewatching = undefined;
      }
    })();
    return this.rewatching;
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      await this.beat();
      this.lastSeen.set(this.info.id, performance.now());
    } catch {
      // a missed heartbeat; the next tick tries again
    }
    if (this.unechoed && performance.now() - this.unechoed.at > this.echoTimeoutMs) void this.rewatch();
    this.evaluate();
    // The first live member removes entries of members that died, so that
    // tools listing the group do not show them.
    if (this.live[0] === this.info.id) {
      const now = performance.now();
      for (const [id, at] of this.lastSeen) {
        if (now - at > this.sessionTimeoutMs * 3) {
          this.lastSeen.delete(id);
          await this.kv.delete(memberKey(this.stream, this.group, id)).catch(() => undefined);
        }
      }
    }
  }

  /**
   * Recomputes the live members. Silence is measured on this member's
   * monotonic clock, and only while this member itself keeps heart-beating:
   * a member whose own heartbeats have not completed for half a session
   * (its event loop or its connection stalled) learns of joins but counts
   * no one dead, since the heartbeats it missed may be waiting unread (a
   * process stalled for seconds saw every other member "die" and come back).
   */
  private evaluate(): void {
    if (this.closed || !this.joined) return;
    const now = performance.now();
    const selfStale = now - (this.lastSeen.get(this.info.id) ?? now) > this.sessionTimeoutMs / 2;
    const live = [...this.lastSeen]
      .filter(([id, at]) => id === this.info.id || now - at <= this.sessionTimeoutMs || (selfStale && this.live.includes(id)))
      .map(([id]) => id);
    live.sort();
    if (live.join("\n") !== this.live.join("\n")) {
      this.live = live;
      this.onChange(live);
    }
  }
}
