import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ExitCode, UsageError, type Command } from "../framework/command.js";
import { projectTemplate } from "../project/templates.js";
import { cliVersion } from "../version.js";

/** `chronicle init`: turns an empty folder into a ready Chronicle project. */
export const initCommand: Command = {
  name: "init",
  summary: "Create a Chronicle project (package.json, tsconfig, buf config, an example event, producer and consumer)",
  description:
    'Writes a ready project into an empty folder (the current one by default): package.json depending on @chronicle/runtime, @chronicle/cli and @bufbuild/protobuf; tsconfig.json; buf.yaml whose second module is node_modules/@chronicle/codegen/proto, so `import "chronicle/v1/options.proto"` resolves; buf.gen.yaml; proto/shop/orders/v1/orders.proto; src/producer.ts and src/consumer.ts. Then: npm install && npx chronicle generate.',
  positionals: [{ name: "dir", description: "Project folder, created when missing (default: the current folder)" }],
  options: {
    name: { type: "string", valueName: "NAME", description: "package.json name (default: the folder's name)" },
    force: { type: "boolean", description: "Write into a folder that is not empty (existing files are kept)" },
  },
  examples: ["chronicle init", "chronicle init my-service && cd my-service && npm install && npx chronicle generate"],
  async run(ctx) {
    const dir = resolve(ctx.cwd, typeof ctx.args["dir"] === "string" ? ctx.args["dir"] : ".");
    const entries = existsSync(dir) ? readdirSync(dir).filter((e) => e !== ".git") : [];
    if (entries.length && ctx.values["force"] !== true) {
      throw new UsageError(
        `${dir} is not empty (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""}); run in an empty folder or pass --force`,
      );
    }
    const name =
      typeof ctx.values["name"] === "string"
        ? ctx.values["name"]
        : basename(dir)
            .toLowerCase()
            .replace(/[^a-z0-9._-]+/g, "-");
    const files = projectTemplate(name, { chronicle: `^${cliVersion}`, protobuf: "^2.17.0", buf: "^1.75.0", protocGenEs: "^2.17.0", typescript: "~5.9.3" });
    const written: string[] = [];
    for (const [path, text] of Object.entries(files)) {
      const target = join(dir, path);
      if (existsSync(target)) {
        ctx.warn(`kept existing ${path}`);
        continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
      written.push(path);
    }
    for (const p of written) ctx.print(`created ${p}`);
    ctx.print("");
    ctx.print(`Next: ${dir === resolve(ctx.cwd) ? "" : `cd ${dir} && `}npm install && npx chronicle generate`);
    ctx.print('Then: "npx chronicle dev" in one terminal, "npm run consumer" in another, "npm run producer" in a third.');
    return ExitCode.Ok;
  },
};
