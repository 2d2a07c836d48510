#!/usr/bin/env node
import { rootCommand } from "./commands/root.js";
import { runCli } from "./framework/run-cli.js";
import { cliVersion } from "./version.js";

const controller = new AbortController();
let interrupts = 0;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    // the first Ctrl-C stops cleanly; a second one exits at once
    if (++interrupts > 1) process.exit(130);
    controller.abort();
  });
}
const code = await runCli(rootCommand, process.argv.slice(2), cliVersion, {
  stdout: (l) => process.stdout.write(`${l}\n`),
  stderr: (l) => process.stderr.write(`${l}\n`),
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = code;
// commands close what they open; this only ends lingering timers of libraries
setTimeout(() => process.exit(code), 200).unref();
