import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";

const options = {
  port: { type: "integer", min: 0, max: 65535, valueName: "PORT", description: "Client port, 0 for any free port", default: 4222 },
  data: { type: "string", valueName: "DIR", description: "Data folder", default: ".chronicle" },
  "sync-always": { type: "boolean", description: "fsync every write before acknowledging it (sync_interval: always)" },
  json: { type: "boolean", description: "Print the endpoints as one JSON line" },
  "console-port": {
    type: "integer",
    min: 0,
    max: 65535,
    valueName: "PORT",
    description: "Console port (open to anyone on loopback), 0 for any free port (default: 8090, or 0 with --port 0)",
  },
  "registry-port": {
    type: "integer",
    min: 0,
    max: 65535,
    valueName: "PORT",
    description: "Schema registry port (open to anyone on loopback), 0 for any free port (default: 8081, or 0 with --port 0)",
  },
} as const satisfies OptionSpecs;

/** What `chronicle dev` receives. */
export type DevContext = CommandContext<typeof options>;

/** `chronicle dev`: a local NATS, schema registry and console for development. */
export const devCommand = defineCommand({
  name: "dev",
  summary: "Start a local NATS server with JetStream, a schema registry and the console for development",
  description:
    "Starts a local nats-server with JetStream on 127.0.0.1 (installing one on first use, with progress) a schema registry and the web console beside it, keeps the data in .chronicle/ of the current folder, prints the URLs and what to do next, and stops everything cleanly on Ctrl-C.",
  options,
  examples: ["chronicle dev", "chronicle dev --port 0 --data /tmp/chronicle --json"],
  load: async () => (await import("./run.js")).runDev,
});
