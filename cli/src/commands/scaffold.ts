import { readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { addHandlerStubs } from "@chronicle/codegen";
import { ExitCode, UsageError, type Command } from "../framework/command.js";
import { loadProject } from "../project/load-project.js";

/** `chronicle scaffold`: adds stub handlers for new event types to consumer files. */
export const scaffoldCommand: Command = {
  name: "scaffold",
  summary: "Add typed stub handlers for new event types to existing consumer files",
  description:
    "Reads the project's streams from its protos, finds calls of the generated exhaustive helpers (ordersHandlers({...})) in the given files, and inserts a typed stub for each event type that has no handler yet, after the last one. Nothing else in the file changes; a second run changes nothing. Stubs throw, so an event is retried and then dead-lettered until its handler is written. Partial helpers are left alone.",
  positionals: [{ name: "files", description: "Consumer files (TypeScript)", required: true, variadic: true }],
  options: {
    project: { type: "string", valueName: "DIR", description: "Project folder with buf.yaml", default: "." },
    check: { type: "boolean", description: "Change nothing; exit 1 when a stub would be added" },
  },
  examples: ["chronicle scaffold src/consumer.ts", "chronicle scaffold --check src/*.ts"],
  async run(ctx) {
    const { streams } = await loadProject(resolve(ctx.cwd, String(ctx.values["project"])));
    const files = (ctx.args["files"] as string[]).map((f) => resolve(ctx.cwd, f));
    let pending = 0;
    for (const file of files) {
      let source: string;
      try {
        source = readFileSync(file, "utf8");
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      const { text, added } = addHandlerStubs(file, source, streams);
      const shown = relative(ctx.cwd, file);
      if (!added.length) {
        ctx.print(`${shown}: every event type has a handler`);
        continue;
      }
      pending += added.length;
      if (ctx.values["check"] !== true) writeFileSync(file, text);
      for (const a of added) ctx.print(`${shown}:${a.line}: ${ctx.values["check"] ? "missing" : "added"} ${a.event} in ${a.helper}(...)`);
    }
    return ctx.values["check"] === true && pending > 0 ? ExitCode.CheckFailed : ExitCode.Ok;
  },
};
