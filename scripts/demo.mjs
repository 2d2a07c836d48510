// `npm run demo`: runs the demo from source (see examples/).
import { spawnSync } from "node:child_process";

const r = spawnSync(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", "examples/demo/src/main.ts", ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
