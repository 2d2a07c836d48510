import { create } from "@bufbuild/protobuf";
import { GroupSnapshotSchema, type GroupSnapshot } from "../gen/chronicle/console/v1/console_pb.js";
import type { DeadLetterStamp, GroupView, GroupsSource } from "./groups-source.js";

/** Options of {@link GroupWatchHub}. */
export interface GroupWatchOptions {
  groups: GroupsSource;
  /** The stream's last sequence (events appended so far), for the handled rate. */
  lastSequence(stream: string): Promise<number>;
  /** Time between polls of one group, ms; default 1000 (never less). */
  intervalMs?: number;
  /** History kept per group, ms; default 5 minutes. */
  historyMs?: number;
  /** How long a group is still polled after its last watcher left, ms; default 30 s (a page switch keeps the history). */
  lingerMs?: number;
  /** Time between reads of the members and the assignment, ms; default 5000 (lag is read every poll). */
  membersIntervalMs?: number;
}

type Listener = (snapshot: GroupSnapshot | undefined, error: string | undefined) => void;

interface Watched {
  stream: string;
  group: string;
  listeners: Set<Listener>;
  history: GroupSnapshot[];
  timer: NodeJS.Timeout | undefined;
  lingerUntil: number;
  previous: { at: number; lastSeq: number; lag: number; epoch: number; deadLetters: number } | undefined;
  dlq: { stamp: DeadLetterStamp | undefined; count: number } | undefined;
  view: { at: number; value: GroupView } | undefined;
  /** Handler failures per second between the last two reads of the members' counters; -1 when no member reports them. */
  failedPerSec: number;
  error: string | undefined;
  stopped: boolean;
}

/**
 * Polls the groups someone is watching and fans each snapshot out to every
 * watcher of that group: one poll per group per interval (at most one a
 * second) however many browsers watch it, and none for groups nobody
 * watches. Each poll reads the lag (one listing of the stream's consumers),
 * the stream's last sequence and the dead-letter stream's size; members,
 * assignment and positions are read every `membersIntervalMs`. Polls of a
 * group never overlap: the next starts an interval
 * after the previous one started, or as soon as it ended when it took
 * longer, so a view updates once a second. Each snapshot carries lag per partition and
 * the rates since the one before (acknowledged events per second from the
 * stream's growth minus the change in lag; dead letters per second from
 * the group's count in the dead-letter stream, read again only when that
 * stream changed; handler failures per second from the counters members
 * write into their heartbeats, between two reads of the members). The last
 * minutes of snapshots are kept for trend charts.
 */
export class GroupWatchHub {
  private readonly watched = new Map<string, Watched>();
  private readonly intervalMs: number;
  private readonly historyMs: number;
  private readonly lingerMs: number;

  constructor(private readonly options: GroupWatchOptions) {
    this.intervalMs = Math.max(1000, options.intervalMs ?? 1000);
    this.historyMs = options.historyMs ?? 5 * 60_000;
    this.lingerMs = options.lingerMs ?? 30_000;
  }

  /** Groups polled now (watched, or left within the linger time). */
  get pollingCount(): number {
    return this.watched.size;
  }

  /**
   * Starts receiving a group's snapshots; returns the history so far and
   * the function that stops the subscription.
   */
  subscribe(stream: string, group: string, listener: Listener): { history: GroupSnapshot[]; error: string | undefined; unsubscribe: () => void } {
    const key = `${stream}\u0000${group}`;
    let w = this.watched.get(key);
    const fresh = !w;
    if (!w) {
      w = {
        stream,
        group,
        listeners: new Set(),
        history: [],
        timer: undefined,
        lingerUntil: 0,
        previous: undefined,
        dlq: undefined,
        view: undefined,
        failedPerSec: -1,
        error: undefined,
        stopped: false,
      };
      this.watched.set(key, w);
    }
    w.listeners.add(listener);
    const ww = w;
    if (fresh) void this.poll(key, ww);
    return {
      history: [...w.history],
      error: w.error,
      unsubscribe: () => {
        ww.listeners.delete(listener);
        if (ww.listeners.size === 0) ww.lingerUntil = Date.now() + this.lingerMs;
      },
    };
  }

  /** Stops every poll. */
  close(): void {
    for (const w of this.watched.values()) {
      w.stopped = true;
      clearTimeout(w.timer);
    }
    this.watched.clear();
  }

  private async poll(key: string, w: Watched): Promise<void> {
    if (w.stopped) return;
    if (w.listeners.size === 0 && Date.now() > w.lingerUntil) {
      this.watched.delete(key);
      return;
    }
    const started = Date.now();
    let snapshot: GroupSnapshot | undefined;
    let error: string | undefined;
    try {
      snapshot = await this.take(w);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (w.stopped) return;
    w.error = error;
    if (snapshot) {
      w.history.push(snapshot);
      const cutoff = Number(snapshot.atMs) - this.historyMs;
      while (w.history.length && Number(w.history[0]!.atMs) < cutoff) w.history.shift();
    }
    for (const l of w.listeners) l(snapshot, error);
    // a fixed rate: the next poll starts an interval after this one started, or at once when this one took longer
    w.timer = setTimeout(() => void this.poll(key, w), Math.max(0, this.intervalMs - (Date.now() - started)));
  }

  private async take(w: Watched): Promise<GroupSnapshot> {
    const membersDue = !w.view || Date.now() - w.view.at >= (this.options.membersIntervalMs ?? 5000);
    const [described, lagNow, lastSeq, stamp] = await Promise.all([
      membersDue ? this.options.groups.describe(w.stream, w.group) : undefined,
      membersDue ? undefined : this.options.groups.lag(w.stream, w.group),
      this.options.lastSequence(w.stream),
      this.options.groups.deadLetterStamp(w.stream),
    ]);
    if (described) {
      if (w.view) w.failedPerSec = failuresPerSecond(w.view, { at: Date.now(), value: described });
      w.view = { at: Date.now(), value: described };
    }
    const base = w.view!.value;
    const view: GroupView = lagNow
      ? { ...base, lag: lagNow.lag, partitions: base.partitions.map((p) => ({ ...p, lag: lagNow.partitions[p.partition] ?? p.lag })) }
      : base;
    const changed = !w.dlq || w.dlq.stamp?.lastSequence !== stamp?.lastSequence || w.dlq.stamp?.messages !== stamp?.messages;
    const deadLetters = !stamp ? 0 : changed ? await this.options.groups.deadLetterCount(w.stream, w.group) : w.dlq!.count;
    w.dlq = { stamp, count: deadLetters };
    const at = Date.now();
    const prev = w.previous;
    let handled = -1;
    let deadLettered = -1;
    if (prev && prev.epoch === view.epoch && at > prev.at) {
      const seconds = (at - prev.at) / 1000;
      handled = Math.max(0, lastSeq - prev.lastSeq - (view.lag - prev.lag)) / seconds;
      deadLettered = Math.max(0, deadLetters - prev.deadLetters) / seconds;
    }
    w.previous = { at, lastSeq, lag: view.lag, epoch: view.epoch, deadLetters };
    return create(GroupSnapshotSchema, {
      stream: w.stream,
      group: w.group,
      atMs: BigInt(at),
      members: view.members.map(({ counts: _counts, ...m }) => ({ ...m, heartbeatAgeMs: BigInt(m.heartbeatAgeMs) })),
      partitions: view.partitions.map((p) => ({ partition: p.partition, owner: p.owner, lag: BigInt(p.lag), details: p.details })),
      lag: BigInt(view.lag),
      epoch: BigInt(view.epoch),
      handledPerSec: handled,
      deadLetteredPerSec: deadLettered,
      failedPerSec: w.failedPerSec,
      deadLetters: BigInt(deadLetters),
    });
  }
}

/**
 * Handler failures per second between two reads of a group's members: the
 * growth of each member's `failed` counter, summed over the members seen in
 * both (a member that restarted counts from 0 again: its growth is taken
 * as 0). -1 when no member reports counters.
 */
function failuresPerSecond(before: { at: number; value: GroupView }, after: { at: number; value: GroupView }): number {
  const seconds = (after.at - before.at) / 1000;
  const earlier = new Map(before.value.members.map((m) => [m.id, m.counts]));
  let reported = false;
  let failed = 0;
  for (const m of after.value.members) {
    if (!m.counts) continue;
    reported = true;
    const was = earlier.get(m.id);
    if (was) failed += Math.max(0, m.counts.failed - was.failed);
  }
  return !reported || seconds <= 0 ? -1 : failed / seconds;
}
