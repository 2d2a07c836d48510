// `npm run bench`: runs bench/src/run-benchmarks.ts from source.
import { spawnSync } from "node:child_process";

const r = spawnSync(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", "bench/src/run-benchmarks.ts", ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
