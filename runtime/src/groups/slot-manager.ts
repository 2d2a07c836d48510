import { assignSlots } from "./assignment.js";
import { abandonClaim, claimSlot } from "./claim-slot.js";
import type { MemberContext } from "./member-context.js";
import { slotOfToken, stateNames, type Slot } from "./names.js";
import { SlotObservations } from "./slot-observations.js";
import { SlotOwner, type OwnerEnd } from "./slot-owner.js";
import type { Subscription } from "@nats-io/transport-node";

/**
 * Turns a member's view of the group into ownership: every member computes
 * the same assignment from the live members it sees ({@link assignSlots});
 * this member claims the slots the assignment gives it and releases those
 * it takes away. Ownership moves only through release and claim (see
 * {@link claimSlot}), so views that disagree for a moment cost a handover,
 * never two owners.
 * @private
 */
export class SlotManager {
  private readonly owners = new Map<Slot, SlotOwner>();
  private readonly claiming = new Map<Slot, Promise<void>>();
  private readonly releasing = new Map<Slot, Promise<unknown>>();
  private wanted = new Set<Slot>();
  private stopped = false;
  private readonly observations = new SlotObservations();
  private readonly pulses: Subscription;
  private settledWaiters: (() => void)[] = [];
  private reported = "";

  constructor(
    private readonly member: MemberContext,
    private readonly slots: readonly Slot[],
    /** Where a slot with no record starts (the group's record). */
    private readonly groupFloor: number,
    private readonly onAssignment: ((partitions: number[]) => void) | undefined,
  ) {
    this.pulses = member.conn.nc.subscribe(stateNames.pulses(member.stream, member.group), {
      callback: (_err, m) => {
        // <state stream>.<group>.<slot>.pulse
        const slot = slotOfToken(m.subject.split(".")[2] ?? "");
        const [seq, kind] = m.string().split(" ");
        if (slot !== undefined && kind) this.observations.pulse(slot, Number(seq), kind);
      },
    });
  }

  /** A new view of the live members: claim what it gives this member, release what it takes away. */
  onMembers(live: readonly string[]): void {
    if (this.stopped) return;
    const owners = assignSlots(this.slots.length, live);
    this.wanted = new Set(this.slots.filter((_, i) => owners[i] === this.member.memberId));
    for (const slot of this.slots) {
      if (this.wanted.has(slot)) {
        if (!this.owners.has(slot) && !this.claiming.has(slot) && !this.releasing.has(slot)) this.claim(slot);
      } else if (this.owners.has(slot)) {
        this.release(slot);
      }
    }
    this.changed();
  }

  /** Partitions this member owns now, sorted (the redrive queue not included). */
  partitions(): number[] {
    return [...this.owners.keys()].filter((s): s is number => typeof s === "number").sort((a, b) => a - b);
  }

  /** Resolves with {@link partitions} once this member owns exactly what its view assigns it, with no claim or release under way. */
  whenSettled(): Promise<number[]> {
    if (this.isSettled()) return Promise.resolve(this.partitions());
    return new Promise((resolve) => this.settledWaiters.push(() => resolve(this.partitions())));
  }

  /** Every owner reads its slot again from its floor (after a reconnect: deliveries in flight may be lost). */
  resyncAll(reason: string): void {
    for (const owner of this.owners.values()) void owner.resync(reason);
  }

  /** Releases every slot and stops claiming; resolves when the releases are written. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wanted.clear();
    for (const slot of [...this.owners.keys()]) this.release(slot);
    await Promise.all([...this.claiming.values(), ...this.releasing.values()]);
    this.pulses.unsubscribe();
  }

  private claim(slot: Slot): void {
    const wanted = () => this.wanted.has(slot) && !this.stopped;
    const run = (async () => {
      for (let wait = 250; wanted(); wait = Math.min(wait * 2, 5000)) {
        const claim = await claimSlot(this.member, slot, this.groupFloor, this.observations, wanted);
        if (!claim) return;
        if (!wanted()) return abandonClaim(this.member, claim);
        try {
          const owner = await SlotOwner.start(this.member, claim, (o, end) => this.ended(o, end));
          this.owners.set(slot, owner);
          if (!wanted()) this.release(slot);
          return;
        } catch (err) {
          this.member.onError(err, { stream: this.member.stream });
          await abandonClaim(this.member, claim);
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    })()
      .catch((err: unknown) => this.member.onError(err, { stream: this.member.stream }))
      .finally(() => {
        this.claiming.delete(slot);
        // the view may have given the slot back while this claim was giving up
        if (this.wanted.has(slot) && !this.stopped && !this.owners.has(slot) && !this.releasing.has(slot)) this.claim(slot);
        this.changed();
      });
    this.claiming.set(slot, run);
  }

  private release(slot: Slot): void {
    const owner = this.owners.get(slot);
    if (!owner) return;
    this.owners.delete(slot);
    const done = owner
      .release()
      .catch((err: unknown) => this.member.onError(err, { stream: this.member.stream }))
      .finally(() => {
        this.releasing.delete(slot);
        if (this.wanted.has(slot) && !this.stopped && !this.claiming.has(slot)) this.claim(slot);
        this.changed();
      });
    this.releasing.set(slot, done);
  }

  /** An owner ended on its own (found the slot taken): claim again if the slot is still this member's. */
  private ended(owner: SlotOwner, end: OwnerEnd): void {
    if (this.owners.get(owner.slot) !== owner) return;
    this.owners.delete(owner.slot);
    if (end === "fenced" && this.wanted.has(owner.slot) && !this.stopped && !this.claiming.has(owner.slot)) this.claim(owner.slot);
    this.changed();
  }

  private isSettled(): boolean {
    if (this.claiming.size > 0 || this.releasing.size > 0) return false;
    for (const slot of this.slots) if (this.wanted.has(slot) !== this.owners.has(slot)) return false;
    return true;
  }

  private changed(): void {
    const owned = this.partitions();
    const text = owned.join(",");
    if (text !== this.reported) {
      this.reported = text;
      this.onAssignment?.(owned);
    }
    if (this.settledWaiters.length > 0 && this.isSettled()) {
      const waiters = this.settledWaiters;
      this.settledWaiters = [];
      for (const w of waiters) w();
    }
  }
}
