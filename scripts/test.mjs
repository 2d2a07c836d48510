// `npm test`: runs vitest, then prints the plain closing line CI reads:
// "N passed, N failed, N skipped". Extra arguments go to vitest.
// A run that goes past CHRONICLE_TEST_LIMIT_MIN minutes (default 35; a
// whole run takes about 15 here) is stopped with every process it started
// and counted as failed, so that a test that hangs still ends in that line.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "chronicle-test-"));
const report = join(dir, "report.json");
const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)];
const leaks = join(dir, "leaks.txt");
const limitMin = Number(process.env.CHRONICLE_TEST_LIMIT_MIN ?? "35");
// its own process group, so that a stop reaches vitest's workers and the servers they started
const child = spawn("npx", args, { stdio: "inherit", detached: true, env: { ...process.env, CHRONICLE_LEAK_REPORT: leaks } });
const stopAll = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopAll(signal));
let overran = false;
const limit = setTimeout(() => {
  overran = true;
  console.log(`\nFAILED: the test run went past ${limitMin} minutes (CHRONICLE_TEST_LIMIT_MIN): a test hangs; stopping it`);
  stopAll("SIGKILL");
}, limitMin * 60_000);
const status = await new Promise((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
clearTimeout(limit);
if (overran) stopAll("SIGKILL"); // what outlived npx
const run = { status: overran ? 1 : status };
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
