import type { Command } from "../framework/command.js";
import { devCommand } from "./dev.js";
import { generateCommand } from "./generate.js";
import { initCommand } from "./init.js";
import { scaffoldCommand } from "./scaffold.js";
import { natsCommand } from "./nats.js";
import { streamsCommand } from "./streams.js";
import { tailCommand } from "./tail.js";
import { registryCommand } from "./registry.js";
import { groupsCommand } from "./groups.js";
import { dlqCommand } from "./dlq.js";
import { lagCommand } from "./lag.js";
import { schemaCommand } from "./schema.js";
import { outboxCommand } from "./outbox.js";
import { consoleCommand } from "./console.js";

/** The `chronicle` command tree. Each command lives in its own file. */
export const rootCommand: Command = {
  name: "chronicle",
  summary: "Schema-first events on NATS JetStream",
  description: "chronicle: schema-first events on NATS JetStream.\nExit codes: 0 ok, 1 a check failed, 2 usage or input error.",
  subcommands: [
    initCommand,
    generateCommand,
    scaffoldCommand,
    devCommand,
    natsCommand,
    registryCommand,
    schemaCommand,
    streamsCommand,
    tailCommand,
    groupsCommand,
    dlqCommand,
    lagCommand,
    outboxCommand,
    consoleCommand,
  ],
};
