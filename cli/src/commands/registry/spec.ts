import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";
import { natsConnectionOptions } from "../../framework/common-options.js";

const serveOptions = {
  ...natsConnectionOptions,
  port: { type: "integer", min: 0, max: 65535, valueName: "PORT", description: "Port to listen on, 0 for any free port", default: 8081 },
  host: { type: "string", valueName: "ADDR", description: "Address to bind", default: "127.0.0.1" },
  tokens: { type: "string", valueName: "FILE", description: "Bearer tokens file" },
  "anonymous-read": { type: "boolean", description: "Let requests without a token read" },
  "read-only": { type: "boolean", description: "Refuse every write" },
  "https-cert": { type: "string", valueName: "FILE", description: "PEM certificate: serve HTTPS (with --https-key)" },
  "https-key": { type: "string", valueName: "FILE", description: "PEM private key of --https-cert" },
  bucket: { type: "string", valueName: "NAME", description: "KV bucket", default: "chronicle_registry" },
  replicas: { type: "integer", min: 1, max: 5, valueName: "N", description: "Replicas of the bucket when it is created, 1 to 5", default: 1 },
  "max-schema-bytes": {
    type: "integer",
    min: 1024,
    max: 64 * 1024 * 1024,
    valueName: "BYTES",
    description: "Largest schema accepted, 1 KiB to 64 MiB (lowered to the server's max_payload)",
    default: 4194304,
  },
  json: { type: "boolean", description: "Print the endpoint as one JSON line" },
} as const satisfies OptionSpecs;

/** What `chronicle registry serve` receives. */
export type RegistryServeContext = CommandContext<typeof serveOptions>;

const serveCommand = defineCommand({
  name: "serve",
  summary: "Serve the schema registry (Connect, gRPC, gRPC-Web) with its data in a JetStream KV bucket",
  description:
    "Serves chronicle.registry.v1.RegistryService over Connect (JSON and binary), gRPC and gRPC-Web on one port, plus GET /schemas/ids/<id> (the binary FileDescriptorSet), GET /healthz, and Confluent Schema Registry's REST API (/subjects, /schemas/ids/<integer>, /config, /mode, /compatibility) for Confluent's clients. State lives in a JetStream KV bucket, so any number of servers can share one NATS. Tokens come from --tokens FILE (JSON array of {name, role, token} or lines name:role:token) and $CHRONICLE_REGISTRY_TOKENS (name:role:token,...); roles are read, write and admin. --tls-* are the TLS options of the NATS connection, like every command's; --https-cert/--https-key make the registry serve HTTPS.",
  options: serveOptions,
  examples: [
    "chronicle registry serve --servers nats://127.0.0.1:4222 --port 8081 --anonymous-read",
    "CHRONICLE_REGISTRY_TOKENS=ci:write:$CI_TOKEN,ops:admin:$OPS_TOKEN chronicle registry serve --https-cert cert.pem --https-key key.pem",
  ],
  load: async () => (await import("./serve.js")).runRegistryServe,
});

const importOptions = {
  from: {
    type: "string",
    valueName: "URL",
    description: "Confluent-compatible registry to copy from (Confluent, Karapace, Redpanda, Apicurio's ccompat, Chronicle)",
  },
  token: { type: "string", valueName: "TOKEN", description: "Bearer token of the source registry" },
  "basic-auth": { type: "string", valueName: "USER:PASSWORD", description: "Basic auth of the source registry (Confluent's API key:secret)" },
  to: { type: "string", valueName: "URL", description: "Chronicle registry to copy into (default $CHRONICLE_REGISTRY_URL, else http://127.0.0.1:8081)" },
  "to-token": { type: "string", valueName: "TOKEN", description: "Admin token of the target registry (default $CHRONICLE_REGISTRY_TOKEN)" },
  subjects: { type: "string", valueName: "GLOB", description: "Only subjects matching this glob (* and ?)", default: "*" },
  "dry-run": { type: "boolean", description: "Read the source and the target, say what would be copied, write nothing" },
  json: { type: "boolean", description: "Print the closing summary as one JSON line" },
} as const satisfies OptionSpecs;

/** What `chronicle registry import` receives. */
export type RegistryImportContext = CommandContext<typeof importOptions>;

const importCommand = defineCommand({
  name: "import",
  summary: "Copy every subject and version from a Confluent-compatible registry, keeping ids, versions and settings",
  description:
    "Reads the source through Confluent's REST API and writes into a Chronicle registry through its Confluent API in IMPORT mode, so integer ids and version numbers stay as they were; subject compatibility levels are copied too. Versions are copied in an order where each version's references come first. A version the target already holds with the same id is skipped, so a second run copies nothing and a run after an interruption copies what is left. Progress goes to stderr, one line per version; the summary counts subjects, versions copied, skipped, and refused with why. Exits 1 when something was refused.",
  options: importOptions,
  examples: [
    "chronicle registry import --from https://psrc-xxxx.confluent.cloud --basic-auth $KEY:$SECRET --to http://127.0.0.1:8081 --to-token $ADMIN_TOKEN",
    "chronicle registry import --from http://127.0.0.1:8085 --subjects 'orders-*' --dry-run",
  ],
  load: async () => (await import("./import.js")).runRegistryImport,
});

/** `chronicle registry`: the schema registry server and imports into it. */
export const registryCommand = defineCommand({
  name: "registry",
  summary: "Run the schema registry, or import into it",
  subcommands: [serveCommand, importCommand],
});
