import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { percentile, type Benchmark, type Measurement } from "../harness.js";

const BIN = join(process.cwd(), "cli", "dist", "bin.js");
const COMMANDS_DIR = join(process.cwd(), "cli", "dist", "commands");

/**
 * How the CLI started before its commands loaded lazily: every command's
 * implementation (and so NATS, connect, the registry, ts-morph's TypeScript)
 * imported before the command line is read.
 */
const EAGER = `import { readdirSync } from "node:fs";
for (const c of readdirSync(${JSON.stringify(COMMANDS_DIR)}, { withFileTypes: true }))
  if (c.isDirectory()) for (const f of readdirSync(${JSON.stringify(COMMANDS_DIR)} + "/" + c.name)) if (f.endsWith(".js")) await import(${JSON.stringify(COMMANDS_DIR)} + "/" + c.name + "/" + f);`;

/** Whole `chronicle` processes whose work is the CLI's own start: its command tree, parsing, help. */
const COMMANDS: { name: string; args: string[] }[] = [
  { name: "chronicle --version", args: ["--version"] },
  { name: "chronicle --help", args: ["--help"] },
  { name: "chronicle schema check --help", args: ["schema", "check", "--help"] },
  { name: "chronicle dev --port x (a usage error)", args: ["dev", "--port", "x"] },
];

function runMs(args: string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: "ignore" });
  const ms = performance.now() - start;
  if (r.error) throw r.error;
  return ms;
}

const benchmark: Benchmark = {
  name: "cli-startup",
  description:
    "Whole processes of the compiled CLI (cli/dist/bin.js, what the installed `chronicle` launcher runs) that only start it: each command imports its implementation when it runs, so these load the command specs and nothing else. Baseline: `node -e 0` in the same run, interleaved; medians. Target: under 150 ms.",
  async run({ quick, log }) {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run bench" (it builds first), not --from-source`);
    const rounds = quick ? 5 : 40;
    const baseline: number[] = [];
    const samples = COMMANDS.map(() => [] as number[]);
    const eager: number[] = [];
    // interleaved, so the load of a shared machine falls on every figure alike
    for (let i = 0; i < rounds; i++) {
      baseline.push(runMs(["-e", "0"]));
      COMMANDS.forEach((c, j) => samples[j]!.push(runMs([BIN, ...c.args])));
      if (i < Math.max(3, rounds / 4)) eager.push(runMs(["--input-type=module", "-e", EAGER]));
    }
    const base = percentile(baseline, 50);
    log(`node -e 0: median ${base.toFixed(1)} ms over ${rounds} runs`);
    const figures = COMMANDS.map((c, j): Measurement => ({
      name: `${c.name} (median)`,
      value: percentile(samples[j]!, 50),
      unit: "ms",
      lowerIsBetter: true,
      baseline: { name: "node -e 0", value: base },
      note: `target < 150 ms; p90 ${percentile(samples[j]!, 90).toFixed(0)} ms`,
    }));
    figures.push({
      name: "every command's implementation imported at start (median)",
      value: percentile(eager, 50),
      unit: "ms",
      lowerIsBetter: true,
      baseline: { name: "node -e 0", value: base },
      note: "how the CLI started before commands loaded lazily",
    });
    return figures;
  },
};

export default benchmark;
