import type { OptionSpecs } from "./command.js";

/**
 * The NATS options every command that talks to NATS accepts. Each has an
 * environment variable used when the option is absent ({@link NATS_ENV});
 * secrets are better passed that way (or in files), since a command line is
 * visible to other users of the machine.
 */
export const natsConnectionOptions = {
  servers: { type: "string", valueName: "URL", description: "NATS server URL(s), comma-separated; default $NATS_URL or nats://127.0.0.1:4222" },
  creds: { type: "string", valueName: "FILE", description: "Credentials file (JWT and NKey seed) for decentralized auth; default $NATS_CREDS" },
  user: { type: "string", valueName: "NAME", description: "User name; default $NATS_USER" },
  password: { type: "string", valueName: "SECRET", description: "Password of --user; default $NATS_PASSWORD (prefer the variable)" },
  token: { type: "string", valueName: "SECRET", description: "Authentication token; default $NATS_TOKEN (prefer the variable)" },
  nkey: { type: "string", valueName: "FILE", description: "File holding an NKey seed (SU...); default $NATS_NKEY" },
  "tls-ca": { type: "string", valueName: "FILE", description: "PEM CA certificate(s) to trust for TLS to NATS; default $NATS_CA" },
  "tls-cert": { type: "string", valueName: "FILE", description: "PEM client certificate for TLS to NATS; default $NATS_CERT" },
  "tls-key": { type: "string", valueName: "FILE", description: "PEM key of --tls-cert; default $NATS_KEY" },
} as const satisfies OptionSpecs;

/** Environment variable read for each option of {@link natsConnectionOptions}. */
export const NATS_ENV: Readonly<Record<keyof typeof natsConnectionOptions, string>> = {
  servers: "NATS_URL",
  creds: "NATS_CREDS",
  user: "NATS_USER",
  password: "NATS_PASSWORD",
  token: "NATS_TOKEN",
  nkey: "NATS_NKEY",
  "tls-ca": "NATS_CA",
  "tls-cert": "NATS_CERT",
  "tls-key": "NATS_KEY",
};

/** The project folder: one flag, `-C/--dir`, on every command that reads a project. */
export const projectDirOption = {
  dir: { type: "string", short: "C", valueName: "DIR", description: "Project folder, the one with buf.yaml", default: "." },
} as const satisfies OptionSpecs;

/** `--json` for commands whose output is data. */
export const jsonOption = {
  json: { type: "boolean", description: "Print JSON" },
} as const satisfies OptionSpecs;

/** Environment variable holding the registry bearer token of the schema commands. */
export const REGISTRY_TOKEN_ENV = "CHRONICLE_REGISTRY_TOKEN";
