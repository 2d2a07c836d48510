// `npm run pack -- DIR`: builds Chronicle's packages and packs each with
// `npm pack` into DIR (default: packages/ of the current folder), for
// projects that install them before they are on a registry (`chronicle init`
// runs this from a clone). Progress goes to stderr; stdout gets one JSON
// object, package name -> tarball file name in DIR.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dest = resolve(process.argv[2] ?? "packages");
// dependencies first: each build reads the declarations of those before it
const PACKAGES = ["runtime", "testing", "registry", "codegen", "outbox", "console", "cli"];
const workspaces = PACKAGES.flatMap((p) => ["--workspace", p]);

function npm(args, stdout) {
  const r = spawnSync("npm", args, { cwd: root, stdio: ["ignore", stdout, "inherit"], encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`npm ${args.join(" ")} failed with exit code ${r.status ?? r.signal}`);
    process.exit(1);
  }
  return r.stdout;
}

console.error(`building ${PACKAGES.map((p) => `@chronicle/${p}`).join(", ")}`);
npm(["run", "--silent", "build", ...workspaces], 2); // compiler errors go to stderr
mkdirSync(dest, { recursive: true });
console.error(`packing into ${dest}`);
const packed = JSON.parse(npm(["pack", "--silent", "--json", ...workspaces, "--pack-destination", dest], "pipe"));
console.log(JSON.stringify(Object.fromEntries(packed.map((p) => [p.name, p.filename]))));
