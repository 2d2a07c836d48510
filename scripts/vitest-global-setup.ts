import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { ensureNatsServer } from "@chronicle/testing";

const RUN_MARK = "CHRONICLE_TEST_RUN";

/** PIDs of server processes (nats-server, postgres) that inherited this run's mark. */
function serversOfThisRun(mark: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (comm !== "nats-server" && comm !== "postgres") continue;
      if (readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`${RUN_MARK}=${mark}`)) found.push(`${comm} (pid ${pid})`);
    } catch {
      // the process ended meanwhile, or is not ours to read
    }
  }
  return found;
}

// Install nats-server once, before test files run in parallel workers, and
// check at the end that no server started by this run is still alive.
export default async function setup(): Promise<() => Promise<void>> {
  const bin = await ensureNatsServer({ log: (l) => console.log(`[nats-server] ${l}`) });
  process.env["NATS_SERVER_BIN"] ??= bin.path;
  const mark = randomUUID();
  process.env[RUN_MARK] = mark; // inherited by workers and every server they spawn
  return async () => {
    if (process.platform !== "linux") return;
    let left = serversOfThisRun(mark);
    // watchdogs kill the servers of exited workers asynchronously: give them a moment
    for (let i = 0; i < 50 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = serversOfThisRun(mark);
    }
    if (left.length) {
      // vitest does not fail a run for a teardown error: `npm test` reads this file
      const report = process.env["CHRONICLE_LEAK_REPORT"];
      if (report) writeFileSync(report, left.join("\n"));
      throw new Error(`servers outlived the test run: ${left.join(", ")}`);
    }
    console.log("no server process outlived the test run");
  };
}
