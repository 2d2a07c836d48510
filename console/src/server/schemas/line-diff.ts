/** How a row of a side-by-side diff changed. */
export type DiffKind = "same" | "removed" | "added" | "changed";

/** One row of a side-by-side diff: 1-based line numbers of each side, 0 where a side has none. */
export interface DiffRowOut {
  kind: DiffKind;
  left: number;
  right: number;
}

/** Above this many cells the middle part is compared line by line instead of by longest common subsequence. */
const MAX_CELLS = 4_000_000;

/**
 * A side-by-side diff of two lists of lines: equal lines aligned by a
 * longest common subsequence (after the common head and tail are taken
 * off), a run of removed lines next to a run of added ones paired into
 * `changed` rows. Cost is linear in the unchanged head and tail and
 * quadratic only in the changed middle, which is capped (beyond 4M cells
 * the middle is paired line by line).
 */
export function diffLines(left: readonly string[], right: readonly string[]): DiffRowOut[] {
  let head = 0;
  while (head < left.length && head < right.length && left[head] === right[head]) head++;
  let tail = 0;
  while (tail < left.length - head && tail < right.length - head && left[left.length - 1 - tail] === right[right.length - 1 - tail]) tail++;
  const a = left.slice(head, left.length - tail);
  const b = right.slice(head, right.length - tail);
  const rows: DiffRowOut[] = [];
  for (let i = 0; i < head; i++) rows.push({ kind: "same", left: i + 1, right: i + 1 });
  const ops = a.length * b.length > MAX_CELLS ? positional(a.length, b.length) : lcsOps(a, b);
  let li = head;
  let ri = head;
  let removed: number[] = [];
  let added: number[] = [];
  const flush = () => {
    const n = Math.max(removed.length, added.length);
    for (let i = 0; i < n; i++) {
      const l = removed[i] ?? 0;
      const r = added[i] ?? 0;
      rows.push({ kind: l && r ? "changed" : l ? "removed" : "added", left: l, right: r });
    }
    removed = [];
    added = [];
  };
  for (const op of ops) {
    if (op === "=") {
      flush();
      rows.push({ kind: "same", left: ++li, right: ++ri });
    } else if (op === "-") removed.push(++li);
    else added.push(++ri);
  }
  flush();
  for (let i = 0; i < tail; i++) rows.push({ kind: "same", left: left.length - tail + i + 1, right: right.length - tail + i + 1 });
  return rows;
}

function positional(n: number, m: number): ("=" | "-" | "+")[] {
  return [...Array<"-">(n).fill("-"), ...Array<"+">(m).fill("+")];
}

function lcsOps(a: readonly string[], b: readonly string[]): ("=" | "-" | "+")[] {
  const n = a.length;
  const m = b.length;
  // lengths of the LCS of a[i..] and b[j..], row by row
  const table = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = a[i] === b[j] ? table[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(table[(i + 1) * (m + 1) + j]!, table[i * (m + 1) + j + 1]!);
    }
  }
  const ops: ("=" | "-" | "+")[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push("=");
      i++;
      j++;
    } else if (table[(i + 1) * (m + 1) + j]! >= table[i * (m + 1) + j + 1]!) {
      ops.push("-");
      i++;
    } else {
      ops.push("+");
      j++;
    }
  }
  while (i++ < n) ops.push("-");
  while (j++ < m) ops.push("+");
  return ops;
}
