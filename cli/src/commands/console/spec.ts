import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { natsConnectionOptions, REGISTRY_TOKEN_ENV } from "../../framework/common-options.js";

/** Environment variable holding the console's tokens (`name:role:token,...`). */
export const CONSOLE_TOKENS_ENV = "CHRONICLE_CONSOLE_TOKENS";

const options = {
  ...natsConnectionOptions,
  registry: { type: "string", valueName: "URL", description: "Schema registry base URL (schemas, decoding); default $CHRONICLE_REGISTRY_URL" },
  "registry-token": { type: "string", valueName: "TOKEN", description: `The console's token for the registry (default: $${REGISTRY_TOKEN_ENV})` },
  port: { type: "integer", min: 0, max: 65535, valueName: "PORT", description: "Port to listen on, 0 for any free port", default: 8090 },
  host: { type: "string", valueName: "ADDR", description: "Address to bind", default: "127.0.0.1" },
  tokens: { type: "string", valueName: "FILE", description: "Console tokens file" },
  "anonymous-read": { type: "boolean", description: "Let requests without a token read (never write)" },
  "https-cert": { type: "string", valueName: "FILE", description: "PEM certificate: serve HTTPS (with --https-key)" },
  "https-key": { type: "string", valueName: "FILE", description: "PEM private key of --https-cert" },
  "nats-monitor": { type: "string", valueName: "URL", description: "NATS monitoring URL (http://host:8222), to show sync_interval" },
  json: { type: "boolean", description: "Print the endpoint as one JSON line" },
} as const satisfies OptionSpecs;

/** What `chronicle console` receives. */
export type ConsoleContext = CommandContext<typeof options>;

/** `chronicle console`: the web console. */
export const consoleCommand = defineCommand({
  name: "console",
  summary: "Serve the Chronicle Console: a web UI for schemas, streams, consumer groups and dead letters",
  description: [
    "Serves the console's web UI and its API (Connect: chronicle.console.v1.OperationsService and the registry's chronicle.registry.v1.RegistryService, forwarded) on one port, connected to NATS with the usual NATS options and to the registry with --registry.",
    `Console tokens come from --tokens FILE (JSON array of {name, role, token} or lines name:role:token) and $${CONSOLE_TOKENS_ENV}; roles: read (look), write (redrive, republish, register schemas), admin (purge, rewind, schema settings). Destructive actions are written to an audit log (the JetStream stream chronicle_console_audit).`,
  ].join("\n"),
  options,
  examples: [
    "chronicle console --registry http://127.0.0.1:8081 --anonymous-read",
    `${CONSOLE_TOKENS_ENV}=ops:admin:$OPS_TOKEN,dev:read:$DEV_TOKEN chronicle console --servers nats://nats:4222 --registry https://registry.example.com --host 0.0.0.0`,
  ],
  load: async () => (await import("./run.js")).runConsole,
});
