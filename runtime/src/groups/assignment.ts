import { fnv1a32 } from "../layout/partition.js";

/**
 * Spreads `slots` work slots (the partitions of a stream, plus one for the
 * group's redrive queue) over live members, deterministically: every member
 * computing it from the same member set gets the same answer, whatever the
 * order it learned the members in.
 *
 * Balanced: each member gets `floor(slots/M)` or `ceil(slots/M)` slots.
 * Sticky: a slot goes to the member that ranks highest for it by rendezvous
 * hashing among those with room left, so a join or leave moves few slots
 * (close to the `slots/M` minimum), unlike round-robin over the sorted list,
 * which reshuffles nearly everything.
 *
 * Returns, for each slot index, the member id that owns it (empty when there
 * are no members).
 */
export function assignSlots(slots: number, members: readonly string[]): string[] {
  const sorted = [...new Set(members)].sort();
  const m = sorted.length;
  if (m === 0) return [];
  const base = Math.floor(slots / m);
  const extra = slots % m;
  // Which members get the extra slot is chosen by hash too, so that it does
  // not depend on a member's position in the sorted list.
  const byExtraRank = [...sorted].sort((a, b) => score(-1, b) - score(-1, a) || (a < b ? -1 : 1));
  const capacity = new Map(sorted.map((id) => [id, base]));
  for (const id of byExtraRank.slice(0, extra)) capacity.set(id, base + 1);
  const owners: string[] = [];
  for (let slot = 0; slot < slots; slot++) {
    let best: string | undefined;
    let bestScore = -1;
    for (const id of sorted) {
      if ((capacity.get(id) ?? 0) <= 0) continue;
      const s = score(slot, id);
      if (s > bestScore) {
        best = id;
        bestScore = s;
      }
    }
    owners.push(best!);
    capacity.set(best!, capacity.get(best!)! - 1);
  }
  return owners;
}

function score(slot: number, member: string): number {
  return fnv1a32(Buffer.from(`${slot}\u0000${member}`, "utf8"));
}
