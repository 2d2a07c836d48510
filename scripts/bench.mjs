// `npm run bench`: builds the packages, then runs bench/src/run-benchmarks.ts
// against what they ship (each package's compiled dist/), as an application
// would run them. The benchmarks' own TypeScript, raw baselines included, is
// run by tsx. Running the packages from source through tsx instead
// (`--from-source`) adds the loader's transform to every function Chronicle
// defines (esbuild's keepNames wraps each one, closures made per event
// included) and none to nats.js: about 10% of a consumer group's throughput.
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const fromSource = args.includes("--from-source");
if (!fromSource) {
  const build = spawnSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
  if (build.status !== 0) {
    console.error("bench: `npm run build` failed; nothing was measured");
    process.exit(build.status ?? 1);
  }
}
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", ...(fromSource ? ["--conditions=@chronicle/source"] : []), "bench/src/run-benchmarks.ts", ...args.filter((a) => a !== "--from-source")],
  { stdio: "inherit", env: { ...process.env, ...(fromSource ? { CHRONICLE_BENCH_FROM_SOURCE: "1" } : {}) } },
);
process.exit(r.status ?? 1);
