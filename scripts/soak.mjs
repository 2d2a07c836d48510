// `npm run test:soak`: the reliability suite (test/reliability) with larger
// counts and more rounds (CHRONICLE_SOAK=1), then the plain closing line CI
// reads. Extra arguments go to vitest (a file name filters). Expect tens of
// minutes on 2 cores; the bounded version runs in `npm test`.
import { spawnSync } from "node:child_process";

const args = ["vitest", "run", "test/reliability", "--testTimeout=1800000", "--hookTimeout=300000", "--maxWorkers=1", ...process.argv.slice(2)];
const run = spawnSync("npx", args, { stdio: "inherit", env: { ...process.env, CHRONICLE_SOAK: "1" } });
process.exit(run.status ?? 1);
