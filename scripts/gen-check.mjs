// Regenerates checked-in generated code (`buf generate`) and fails when the
// result differs from what is committed.
import { spawnSync } from "node:child_process";

const gen = spawnSync("npm", ["run", "--silent", "gen"], { stdio: "inherit" });
if (gen.status !== 0) process.exit(gen.status ?? 1);
const diff = spawnSync("git", ["status", "--porcelain", "--", "**/gen/**", "**/*_pb.ts", "**/*_chronicle.ts"], { encoding: "utf8" });
if (diff.stdout.trim()) {
  console.error(`generated code is out of date; run "npm run gen" and commit:\n${diff.stdout}`);
  process.exit(1);
}
console.log("generated code is up to date");
