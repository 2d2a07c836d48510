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
 * @private
 */
export class Membership {
  private readonly lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private live: string[] = [];
  private closed = false;

  constructor(
    private readonly kv: KV,
    private readonly stream: string,
    private readonly group: string,
    readonly info: MemberInfo,
    private readonly heartbeatMs: number,
    private readonly sessionTimeoutMs: number,
    private readonly onChange: (members: string[]) => void,
  ) {}

  /** The live members, sorted. */
  members(): string[] {
    return this.live;
  }

  /** Announces this member, learns the others and starts heart-beating. */
  async join(): Promise<void> {
    const prefix = groupKeyPrefix(this.stream, this.group);
    this.watcher = await this.kv.watch({ key: `${prefix}.m.>`, include: "updates" });
    void this.consumeWatch(this.watcher);
    await this.beat();
    const keys = await this.kv.keys(`${prefix}.m.>`);
    for await (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== "PUT") continue;
      const id = k.slice(prefix.length + 3);
      if (!this.lastSeen.has(id)) this.lastSeen.set(id, Date.now() - Math.max(0, Date.now() - e.created.getTime()));
    }
    this.lastSeen.set(this.info.id, Date.now());
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

  private async consumeWatch(w: QueuedIterator<KvWatchEntry>): Promise<void> {
    const prefix = groupKeyPrefix(this.stream, this.group);
    try {
      for await (const e of w) {
        const id = e.key.slice(prefix.length + 3);
        if (e.operation === "PUT") this.lastSeen.set(id, Date.now());
        else if (id !== this.info.id) this.lastSeen.delete(id);
        this.evaluate();
      }
    } catch {
      // the watch ends when the connection closes; tick() keeps evaluating
    }
  }

  private async beat(): Promise<void> {
    await this.kv.put(memberKey(this.stream, this.group, this.info.id), JSON.stringify(this.info));
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    try {
      await this.beat();
      this.lastSeen.set(this.info.id, Date.now());
    } catch {
      // a missed heartbeat; the next tick tries again
    }
    this.evaluate();
    // The first live member removes entries of members that died, so that
    // tools listing the group do not show them.
    if (this.live[0] === this.info.id) {
      const now = Date.now();
      for (const [id, at] of this.lastSeen) {
        if (now - at > this.sessionTimeoutMs * 3) {
          this.lastSeen.delete(id);
          await this.kv.delete(memberKey(this.stream, this.group, id)).catch(() => undefined);
        }
      }
    }
  }

  private evaluate(): void {
    if (this.closed) return;
    const now = Date.now();
    const live = [...this.lastSeen].filter(([id, at]) => id === this.info.id || now - at <= this.sessionTimeoutMs).map(([id]) => id);
    live.sort();
    if (live.join("\n") !== this.live.join("\n")) {
      this.live = live;
      this.onChange(live);
    }
  }
}
