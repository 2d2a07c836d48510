// `chronicle schema check --all-messages` against `buf breaking` (the oracle)
// on Buf's corpus in ../shared/conformance/buf-breaking, at the command
// level. For every case, the previous side is the image the oracle compared
// (written by `buf build --as-file-descriptor-set`), passed with
// --against-image; the current side is built by the command itself from a
// copy of the case, with the `version: v1` configuration the oracle builds
// with. The JSON report's `violations` (each violation once), as (rule,
// file, line, column), equal the lines `buf breaking --error-format json`
// prints for WIRE and for WIRE_JSON, counted as multisets; so do the keys
// of every subject's violations, each counted once. Buf answers "may current
// replace previous", the BACKWARD direction. (That the default
// FULL_TRANSITIVE reports at least as much is checked on the engine, in
// registry/src/compat/conformance.)
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findCorpus, loadOracle, type OracleCase } from "../../../registry/src/compat/conformance/buf-oracle.js";
import { rootCommand } from "../commands/root.js";
import { runCli } from "../framework/run-cli.js";
import { runBuf } from "../project/buf.js";

const corpus = findCorpus();
if (corpus === undefined) console.warn("buf parity: ../shared/conformance/buf-breaking is absent (a user's clone); skipping the command-level comparison");

interface JsonReport {
  violations?: { rule: string; file?: string; line?: number; column?: number }[];
  subjects: { violations: { rule: string; file?: string; line?: number; column?: number }[] }[];
}

async function cli(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(rootCommand, argv, "0.0.0-test", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const key = (rule: string, file: string | undefined, line: number | undefined, column: number | undefined) =>
  `${rule} ${file ?? "?"}:${line ?? 0}:${column ?? 0}`;

/** Every (rule, file, line, column) of a report, once. */
function reportKeys(report: JsonReport): string[] {
  const all = [...(report.violations ?? []), ...report.subjects.flatMap((s) => s.violations)];
  return [...new Set(all.map((v) => key(v.rule, v.file, v.line, v.column)))].sort();
}

type Category = "WIRE" | "WIRE_JSON";

/** What the command printed for one case and one way of running it. */
interface Outcome {
  code: number;
  err: string;
  report: JsonReport | undefined;
}

/** Runs `tasks` at most `limit` at a time (buf builds run beside the in-process checks). */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < tasks.length; i = next++) results[i] = await tasks[i]!();
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

function count(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** "+key" for each one the command reported more often than buf, "-key" for each one less often. */
function multisetDifference(ours: string[], theirs: string[]): string[] {
  const a = count(ours);
  const b = count(theirs);
  const out: string[] = [];
  for (const [k, n] of a) for (let i = b.get(k) ?? 0; i < n; i++) out.push(`+${k}`);
  for (const [k, n] of b) for (let i = a.get(k) ?? 0; i < n; i++) out.push(`-${k}`);
  return out.sort();
}

describe.skipIf(corpus === undefined)("chronicle schema check --all-messages agrees with buf breaking on Buf's corpus", () => {
  let cases: OracleCase[] = [];
  const outcomes = new Map<string, Outcome>();
  const work = mkdtempSync(join(tmpdir(), "chronicle-parity-"));
  const runs: { mode: string; category: Category }[] = [
    { mode: "BACKWARD", category: "WIRE" },
    { mode: "BACKWARD", category: "WIRE_JSON" },
  ];

  beforeAll(async () => {
    cases = await loadOracle(corpus ?? "", 2);
    const tasks = cases.flatMap((c) => {
      const dir = join(work, c.name);
      cpSync(join(corpus ?? "", "current", c.name), dir, { recursive: true });
      writeFileSync(join(dir, "buf.yaml"), "version: v1\n");
      const image = join(work, `${c.name}.binpb`);
      writeFileSync(image, c.previousBinary);
      return runs.map(({ mode, category }) => async () => {
        const r = await cli(dir, "schema", "check", "--against-image", image, "--all-messages", "--mode", mode, "--rules", category, "--format", "json");
        outcomes.set(`${c.name} ${mode} ${category}`, { code: r.code, err: r.err, report: r.code === 2 ? undefined : (JSON.parse(r.out) as JsonReport) });
      });
    });
    await inParallel(tasks, 3);
  }, 600_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("has the corpus's 54 cases", () => {
    expect(cases.length).toBe(54);
  });

  for (const category of ["WIRE", "WIRE_JSON"] as const) {
    it(`--mode BACKWARD --rules ${category}: the same violations as buf breaking, and the same exit code, in every case`, () => {
      const disagreements: string[] = [];
      for (const c of cases) {
        const outcome = outcomes.get(`${c.name} BACKWARD ${category}`);
        if (outcome?.report === undefined) {
          disagreements.push(`${c.name}: exit ${outcome?.code}: ${outcome?.err}`);
          continue;
        }
        const theirs = c.buf[category].map((a) => key(a.type, a.path, a.start_line, a.start_column));
        const once = (outcome.report.violations ?? []).map((v) => key(v.rule, v.file, v.line, v.column));
        const differences = [
          ...multisetDifference(once, theirs),
          ...multisetDifference(reportKeys(outcome.report), [...new Set(theirs)]).map((d) => `${d} (subjects)`),
        ];
        const code = theirs.length ? 1 : 0;
        if (differences.length || outcome.code !== code) disagreements.push(`${c.name}: exit ${outcome.code}, buf ${code} ${differences.join(" ")}`);
      }
      expect(disagreements).toEqual([]);
    });
  }
});
