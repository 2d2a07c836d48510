import { ensureNatsServer } from "@chronicle/runtime";

// Install nats-server once, before test files run in parallel workers.
export default function setup(): void {
  const bin = ensureNatsServer({ log: (l) => console.log(`[nats-server] ${l}`) });
  process.env["NATS_SERVER_BIN"] ??= bin.path;
}
