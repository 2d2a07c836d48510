// `npm run test:soak`: the reliability suite (test/reliability) with larger
// counts and more rounds (CHRONICLE_SOAK=1), one file at a time; it exits
// with vitest's status. Extra arguments go to vitest (a file name filters, instead of the
// whole folder). Expect tens of
// minutes on 2 cores; the bounded version runs in `npm test`.
//
// `npm run test:soak -- --faults [--seed N] [--minutes M] [--workloads a,b]`:
// the fault suite (test/faults) instead, scenarios at soak scale and a mixed
// schedule of kills, restarts, pauses and partitions lasting M minutes
// (default 5), drawn from seed N (default a new one, printed first: pass it
// back to replay the same schedule). --workloads adds workloads of
// test/faults/workload.ts beside the producer (default stale-producer,group).
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const take = (flag) => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith("--")) {
    console.error(`${flag} needs a value`);
    process.exit(2);
  }
  args.splice(i, 2);
  return value;
};

const env = { ...process.env, CHRONICLE_SOAK: "1" };
let folder = "test/reliability";
const faults = args.indexOf("--faults");
if (faults >= 0) {
  args.splice(faults, 1);
  folder = "test/faults";
  const seed = take("--seed") ?? String(Math.floor(Math.random() * 2 ** 31));
  const minutes = Number(take("--minutes") ?? "5");
  const workloads = take("--workloads");
  if (!/^\d+$/.test(seed) || !(minutes > 0)) {
    console.error("--seed takes a non-negative integer and --minutes a positive number");
    process.exit(2);
  }
  env.CHRONICLE_FAULTS_SEED = seed;
  env.CHRONICLE_FAULTS_DURATION_MS = String(Math.round(minutes * 60_000));
  if (workloads !== undefined) env.CHRONICLE_FAULTS_WORKLOADS = workloads;
  console.log(`fault soak: seed ${seed}, mixed schedule ${minutes} min (replay: npm run test:soak -- --faults --seed ${seed} --minutes ${minutes})`);
}

// file filters given: they choose the files (vitest would otherwise run the folder too)
const filters = args.filter((a) => !a.startsWith("-"));
const run = spawnSync(
  "npx",
  ["vitest", "run", ...(filters.length ? [] : [folder]), "--testTimeout=1800000", "--hookTimeout=300000", "--maxWorkers=1", ...args],
  { stdio: "inherit", env },
);
process.exit(run.status ?? 1);
