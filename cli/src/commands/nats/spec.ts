import { defineCommand, type CommandContext, type OptionSpecs } from "../../framework/command.js";

const installOptions = { json: { type: "boolean", description: "Print the result as JSON" } } as const satisfies OptionSpecs;

/** What `chronicle nats install` receives. */
export type NatsInstallContext = CommandContext<typeof installOptions>;

/** `chronicle nats install`: find or fetch a nats-server binary. */
export const natsCommand = defineCommand({
  name: "nats",
  summary: "Manage the local nats-server binary",
  subcommands: [
    defineCommand({
      name: "install",
      summary: "Find a nats-server 2.11+ or install one into your user cache",
      description:
        "Uses $NATS_SERVER_BIN, a nats-server on PATH or one cached earlier when it is 2.11 or newer; otherwise, on Debian-family systems, downloads Debian unstable's package without changing the system (showing progress) and keeps only the binary in the per-user cache: $CHRONICLE_CACHE_DIR, else $XDG_CACHE_HOME/chronicle, else ~/.cache/chronicle.",
      options: installOptions,
      load: async () => (await import("./install.js")).runNatsInstall,
    }),
  ],
});
