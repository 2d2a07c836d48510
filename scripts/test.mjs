// `npm test`: runs vitest, then prints the plain closing line CI reads:
// "N passed, N failed, N skipped". Extra arguments go to vitest.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "chronicle-test-"));
const report = join(dir, "report.json");
const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)];
const leaks = join(dir, "leaks.txt");
const run = spawnSync("npx", args, { stdio: "inherit", env: { ...process.env, CHRONICLE_LEAK_REPORT: leaks } });
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed = json.numPassedTests;
  failed = json.numFailedTests + (json.numRuntimeErrorTestSuites ?? 0);
  skipped = json.numPendingTests + json.numTodoTests;
  if (json.success === false && failed === 0) failed = 1; // a suite failed to load
} catch {
  failed = Math.max(failed, 1);
}
if (existsSync(leaks)) {
  console.log(`\nFAILED: server processes outlived the test run:\n${readFileSync(leaks, "utf8")}`);
  failed++;
}
rmSync(dir, { recursive: true, force: true });
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
