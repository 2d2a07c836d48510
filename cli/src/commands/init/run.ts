import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { ExitCode, UsageError } from "../../framework/command.js";
import { projectTemplate, type TemplateVersions } from "../../project/templates.js";
import { packPackages, sourceCheckoutRoot, type ChroniclePackage } from "../../project/vendor-packages.js";
import { cliVersion } from "../../version.js";
import type { InitContext } from "./spec.js";

/** Where a vendored project keeps Chronicle's tarballs, relative to its folder. */
const VENDOR_DIR = "vendor/chronicle";

/** Chronicle's package versions for the new project: vendored tarballs (packed now) or registry ranges. */
function chronicleVersions(mode: string, dir: string, warn: (line: string) => void): Pick<TemplateVersions, "chronicle" | "overrides"> {
  if (mode === "registry") {
    const range = `^${cliVersion}`;
    return { chronicle: { "@chronicle/runtime": range, "@chronicle/cli": range, "@chronicle/codegen": range, "@chronicle/testing": range } };
  }
  const repo = sourceCheckoutRoot();
  if (!repo) throw new UsageError("--packages vendor packs this clone's packages, but chronicle runs from an installed package; use --packages registry");
  warn(`chronicle: packing this clone's packages into ${join(dir, VENDOR_DIR)} (they are not on a registry yet)`);
  const files = packPackages(repo, join(dir, VENDOR_DIR));
  const spec = (p: ChroniclePackage) => `file:${VENDOR_DIR}/${files[p]}`;
  return {
    chronicle: {
      "@chronicle/runtime": spec("@chronicle/runtime"),
      "@chronicle/cli": spec("@chronicle/cli"),
      "@chronicle/codegen": spec("@chronicle/codegen"),
      "@chronicle/testing": spec("@chronicle/testing"),
    },
    overrides: {
      "@chronicle/registry": spec("@chronicle/registry"),
      "@chronicle/outbox": spec("@chronicle/outbox"),
      "@chronicle/console": spec("@chronicle/console"),
    },
  };
}

/** Runs `chronicle init`. */
export async function runInit(ctx: InitContext): Promise<number> {
  const dir = resolve(ctx.cwd, ctx.args.dir ?? ".");
  const mode = ctx.values.packages ?? (sourceCheckoutRoot() ? "vendor" : "registry");
  if (mode !== "vendor" && mode !== "registry") throw new UsageError(`--packages must be vendor or registry, got ${JSON.stringify(mode)}`);
  const entries = existsSync(dir) ? readdirSync(dir).filter((e) => e !== ".git") : [];
  if (entries.length && !ctx.values.force) {
    throw new UsageError(`${dir} is not empty (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""}); run in an empty folder or pass --force`);
  }
  const name =
    ctx.values.name ??
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-");
  const files = projectTemplate(name, {
    ...chronicleVersions(mode, dir, ctx.warn),
    protobuf: "^2.17.0",
    buf: "^1.75.0",
    protocGenEs: "^2.17.0",
    typescript: "~5.9.3",
  });
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
  if (mode === "vendor") ctx.print(`created ${VENDOR_DIR}/ (Chronicle's packages; commit them with the project)`);
  const rel = relative(ctx.cwd, dir);
  // a sibling reads best relative (cd ../my-service); anything further up, absolute
  const shown = rel === "" ? "." : rel.startsWith(`..${sep}..`) ? dir : rel;
  ctx.print("");
  ctx.print("Next:");
  if (shown !== ".") ctx.print(`  cd ${shown}`);
  ctx.print("  npm install");
  ctx.print("  npm run generate");
  ctx.print("Then, each in its own terminal: npm run dev, then npm run consumer, then npm run producer.");
  return ExitCode.Ok;
}
