// `chronicle schema check` as users run it, whole processes, beside
// `buf breaking` on the same pair of schemas in the same run: the example
// protos (events, checked per subject) and generated modules of 1,000
// messages (`--all-messages`, the whole module), each against an image
// (`--against-image`, `buf breaking . --against FILE`) and against git
// (`--against-git HEAD`, `buf breaking . --against .git#ref=HEAD`). Both
// tools compile the working tree with buf; both read the earlier side from
// the same image or commit.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeGeneratedModule, type GeneratedModuleOptions } from "../../../cli/src/schema/testing-module.js";
import { percentile, type Benchmark, type Measurement } from "../harness.js";

const root = process.cwd();
const BUF = join(root, "node_modules", ".bin", "buf");
/** GNU time, for each process's peak memory and CPU time; figures without it show wall time only. */
const GNU_TIME = "/usr/bin/time";
const fromSource = process.env["CHRONICLE_BENCH_FROM_SOURCE"] !== undefined;
/** How the `chronicle` command is started: the compiled bin, as `npx chronicle` runs it, or the sources through tsx. */
const CHRONICLE = fromSource
  ? [process.execPath, "--import", "tsx", "--conditions=@chronicle/source", join(root, "cli/src/bin.ts")]
  : [process.execPath, join(root, "cli/dist/bin.js")];

/** One finished process: wall, CPU and peak memory. */
interface ProcessRun {
  wallMs: number;
  cpuMs: number | undefined;
  maxRssMiB: number | undefined;
  status: number;
}

function runProcess(argv: readonly string[], cwd: string): ProcessRun {
  const stats = join(tmpdir(), `chronicle-bench-time-${process.pid}`);
  const timed = existsSync(GNU_TIME);
  const [command, ...args] = timed ? [GNU_TIME, "-f", "%U %S %M", "-o", stats, ...argv] : argv;
  const start = performance.now();
  const r = spawnSync(command!, args, { cwd, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 26 });
  const wallMs = performance.now() - start;
  let cpuMs: number | undefined;
  let maxRssMiB: number | undefined;
  if (timed) {
    const [user = 0, sys = 0, rssKiB = 0] = readFileSync(stats, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
    cpuMs = (user + sys) * 1000;
    maxRssMiB = rssKiB / 1024;
    rmSync(stats, { force: true });
  }
  if (r.status === null || r.status > 1) {
    const what = argv.join(" ");
    // buf breaking exits 100 when it finds something, which the changes here make it do
    if (!(r.status === 100 && what.includes(BUF))) throw new Error(`${what} exited ${r.status}: ${String(r.stderr).slice(0, 2000)}`);
  }
  return { wallMs, cpuMs, maxRssMiB, status: r.status ?? -1 };
}

/** Runs both commands `runs` times in turns (so a busy spell slows both alike) and keeps the medians. */
function compare(chronicle: string[], buf: string[], cwd: string, runs: number): { ours: ProcessRun; theirs: ProcessRun } {
  const ours: ProcessRun[] = [];
  const theirs: ProcessRun[] = [];
  runProcess(chronicle, cwd); // first run fills the OS file cache for both
  for (let i = 0; i < runs; i++) {
    ours.push(runProcess(chronicle, cwd));
    theirs.push(runProcess(buf, cwd));
  }
  return { ours: median(ours), theirs: median(theirs) };
}

function median(runs: ProcessRun[]): ProcessRun {
  const pick = (f: (r: ProcessRun) => number | undefined): number | undefined => {
    const values = runs.map(f).filter((v): v is number => v !== undefined);
    return values.length ? percentile(values, 50) : undefined;
  };
  return { wallMs: pick((r) => r.wallMs) ?? 0, cpuMs: pick((r) => r.cpuMs), maxRssMiB: pick((r) => r.maxRssMiB), status: runs[0]?.status ?? -1 };
}

function git(dir: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.email=bench@example.com", "-c", "user.name=bench", "-c", "commit.gpgsign=false", ...args], { cwd: dir, stdio: "pipe" });
}

/** A project of the example protos (orders and identity, with Chronicle's options vendored), as `chronicle init` lays one out. */
function examplesProject(dir: string): void {
  mkdirSync(join(dir, "proto"), { recursive: true });
  for (const example of ["orders", "identity"]) cpSync(join(root, "examples", example, "proto"), join(dir, "proto"), { recursive: true });
  cpSync(join(root, "codegen", "proto"), join(dir, "vendor"), { recursive: true });
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: vendor\nbreaking:\n  use:\n    - WIRE_JSON\n");
}

/** The compatible change the examples get: a field added to OrderPlaced. */
function changeExamples(dir: string): void {
  const file = join(dir, "proto", "shop", "orders", "v1", "orders.proto");
  const text = readFileSync(file, "utf8");
  const changed = text.replace(/^message OrderPlaced \{\n/m, "message OrderPlaced {\n  string bench_note = 99;\n");
  if (changed === text) throw new Error("the orders example no longer declares OrderPlaced where the benchmark expects it");
  writeFileSync(file, changed);
}

/** A scenario: a git repository whose HEAD and image hold the earlier version, and a working tree with the change. */
interface Scenario {
  name: string;
  /** Extra arguments of `chronicle schema check`. */
  args: string[];
  prepare(dir: string): void;
  change(dir: string): void;
}

function generated(shape: Omit<GeneratedModuleOptions, "version">): Pick<Scenario, "prepare" | "change"> {
  return {
    prepare: (dir) => {
      writeGeneratedModule(dir, { ...shape, version: 1 });
      writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\nbreaking:\n  use:\n    - WIRE_JSON\n");
    },
    change: (dir) => {
      writeGeneratedModule(dir, { ...shape, version: 2 });
      writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\nbreaking:\n  use:\n    - WIRE_JSON\n");
    },
  };
}

const scenarios: Scenario[] = [
  { name: "example protos (4 events)", args: [], prepare: examplesProject, change: changeExamples },
  { name: "one file of 1,000 messages", args: ["--all-messages"], ...generated({ files: 1, perFile: 1000 }) },
  { name: "10 files x 100 messages, cross-file references", args: ["--all-messages"], ...generated({ files: 10, perFile: 100 }) },
];

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Peak memory and CPU time of both, and how much of chronicle's is start-up (what `chronicle --version` costs). */
function resourceNote(ours: ProcessRun, theirs: ProcessRun, startup: ProcessRun): string {
  if (ours.maxRssMiB === undefined || theirs.maxRssMiB === undefined) return "";
  return (
    `; peak RSS ${ours.maxRssMiB.toFixed(0)} MiB (target < 200) vs buf ${theirs.maxRssMiB.toFixed(0)} MiB` +
    `; CPU ${ours.cpuMs?.toFixed(0)} ms (start-up ${startup.cpuMs?.toFixed(0)} ms of it) vs buf ${theirs.cpuMs?.toFixed(0)} ms`
  );
}

const benchmark: Benchmark = {
  name: "schema-check",
  description:
    "`chronicle schema check` as whole processes (the command users run) beside `buf breaking` on the same pair in the same run, medians of runs taken in turns; `chronicle --version` and `node -e 0` show the start-up floor",
  async run(ctx) {
    const runs = ctx.quick ? 1 : 5;
    const results: Measurement[] = [];
    const work = mkdtempSync(join(tmpdir(), "chronicle-schema-bench-"));
    try {
      const startup = compare([...CHRONICLE, "--version"], [process.execPath, "-e", "0"], work, runs);
      results.push({
        name: "chronicle --version (start-up floor of every command)",
        value: round(startup.ours.wallMs),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: "node -e 0", value: round(startup.theirs.wallMs) },
        note: `${startup.ours.maxRssMiB === undefined ? "" : `peak RSS ${startup.ours.maxRssMiB.toFixed(0)} MiB; `}command: ${[...CHRONICLE.slice(1).map((a) => a.replace(root + "/", "")), "--version"].join(" ")}`,
      });
      for (const scenario of scenarios) {
        const dir = join(work, scenario.name.replace(/[^a-z0-9]+/gi, "-"));
        mkdirSync(dir, { recursive: true });
        scenario.prepare(dir);
        git(dir, "init", "-q", "-b", "main");
        git(dir, "add", "-A");
        git(dir, "commit", "-q", "-m", "earlier version");
        execFileSync(BUF, ["build", "-o", join(work, `${dir.split("/").pop()}.binpb`)], { cwd: dir, stdio: "pipe" });
        scenario.change(dir);
        const image = join(work, `${dir.split("/").pop()}.binpb`);
        for (const [side, ours, theirs] of [
          ["--against-image", ["--against-image", image], ["--against", image]],
          ["--against-git", ["--against-git", "HEAD"], ["--against", ".git#ref=HEAD"]],
        ] as const) {
          const chronicle = [...CHRONICLE, "schema", "check", ...ours, ...scenario.args, "--format", "json"];
          const buf = [BUF, "breaking", ".", ...theirs, "--error-format", "json"];
          const { ours: o, theirs: t } = compare(chronicle, buf, dir, runs);
          ctx.log(`${scenario.name} ${side}: chronicle ${o.wallMs.toFixed(0)} ms, buf breaking ${t.wallMs.toFixed(0)} ms`);
          const shown = `chronicle schema check ${[...ours.map((a) => (a === image ? "earlier.binpb" : a)), ...scenario.args].join(" ")}`;
          results.push({
            name: `${scenario.name}, ${shown}`,
            value: round(o.wallMs),
            unit: "ms",
            lowerIsBetter: true,
            baseline: { name: `buf breaking . ${theirs.map((a) => (a === image ? "earlier.binpb" : a)).join(" ")}`, value: round(t.wallMs) },
            note: `target >= 1x${scenario.args.length ? " and < 2000 ms" : ""}${resourceNote(o, t, startup.ours)}`,
          });
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return results;
  },
};

export default benchmark;
