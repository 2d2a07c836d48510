import { defineCommand } from "../framework/command.js";
import { devCommand } from "./dev/spec.js";
import { consoleCommand } from "./console/spec.js";
import { dlqCommand } from "./dlq/spec.js";
import { generateCommand } from "./generate/spec.js";
import { groupsCommand } from "./groups/spec.js";
import { initCommand } from "./init/spec.js";
import { lagCommand } from "./lag/spec.js";
import { natsCommand } from "./nats/spec.js";
import { outboxCommand } from "./outbox/spec.js";
import { registryCommand } from "./registry/spec.js";
import { scaffoldCommand } from "./scaffold/spec.js";
import { schemaCommand } from "./schema/spec.js";
import { streamsCommand } from "./streams/spec.js";
import { tailCommand } from "./tail/spec.js";

/**
 * The `chronicle` command tree: specs only (names, options, help). Each
 * command's implementation sits beside its spec and is imported when the
 * command runs.
 */
export const rootCommand = defineCommand({
  name: "chronicle",
  summary: "Schema-first events on NATS JetStream",
  description:
    "chronicle: schema-first events on NATS JetStream.\nExit codes: 0 ok, 1 a check failed, 2 usage or input error, 70 an unexpected internal error (a bug).",
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
});
