import { ensureNatsServer } from "@chronicle/testing";
import { ExitCode, type Command } from "../framework/command.js";

/** `chronicle nats install`: find or fetch a nats-server binary. */
export const natsCommand: Command = {
  name: "nats",
  summary: "Manage the local nats-server binary",
  subcommands: [
    {
      name: "install",
      summary: "Find a nats-server 2.11+ or install one into the project's cache",
      description:
        "Uses $NATS_SERVER_BIN, a nats-server on PATH or one cached earlier when it is 2.11 or newer; otherwise, on Debian-family systems, downloads Debian unstable's package without changing the system and keeps only the binary in node_modules/.cache/chronicle.",
      options: { json: { type: "boolean", description: "Print the result as JSON" } },
      async run(ctx) {
        const bin = ensureNatsServer({ log: (l) => ctx.warn(l) });
        ctx.print(ctx.values["json"] ? JSON.stringify(bin) : `nats-server ${bin.version} at ${bin.path} (${bin.source})`);
        return ExitCode.Ok;
      },
    },
  ],
};
