// README's "Use Chronicle in your own service", run as a user would, outside
// the repository: each command of the README's marked blocks, exactly as
// printed (the project folder `../my-service` becomes a temporary folder, and
// `npm run dev` gets `-- --port 0 --json`, the variant the README gives for
// taken ports, so runs on a shared machine never collide). `init` builds and
// packs the packages once; the packaging checks below reuse its tarballs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { interruptAll, sh, shBlock, startTerminal, until } from "./shell.js";

const root = new URL("../..", import.meta.url).pathname;
const readme = readFileSync(join(root, "README.md"), "utf8");
const work = mkdtempSync(join(tmpdir(), "chronicle-own-service-"));
const project = join(work, "my-service");
const PROTO = "proto/shop/orders/v1/orders.proto";

afterAll(async () => {
  await interruptAll();
  rmSync(work, { recursive: true, force: true });
});

/** The commands of the README's sh block marked `<!-- run by test/docs/own-service.test.ts: NAME -->`. */
function readmeBlock(name: string): string[] {
  return shBlock(readme, `run by test/docs/own-service.test.ts: ${name}`);
}

function ok(line: string, cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = sh(line, cwd, env);
  expect(r.status, `${line}\n${r.out}\n${r.err}`).toBe(0);
  return r.out;
}

const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

describe.sequential("README: use Chronicle in your own service", () => {
  let registryUrl = "";
  let natsUrl = "";

  it("create: init packs the packages into the project, which installs, generates and typechecks", { timeout: 1_800_000 }, () => {
    const lines = readmeBlock("create");
    expect(lines).toEqual(["npm run chronicle -- init ../my-service", "cd ../my-service", "npm install", "npm run generate", "npm run typecheck"]);
    const init = ok(lines[0]!.replace("../my-service", project), root);
    // the order init prints is the order the README gives and this test runs
    expect(init).toContain("npm run dev, then npm run consumer, then npm run producer");
    expect(init).toMatch(/^ {2}npm install$/m);
    expect(init).toMatch(/^ {2}npm run generate$/m);
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["@chronicle/runtime"]).toMatch(/^file:vendor\/chronicle\/chronicle-runtime-[\d.]+\.tgz$/);
    for (const line of lines.slice(2)) ok(line, project);
    expect(existsSync(join(project, "src/gen/shop/orders/v1/orders_chronicle.ts"))).toBe(true);
  });

  it("an expected failure is one line: the consumer without NATS says what to start, no stack trace", { timeout: 300_000 }, () => {
    const r = sh("npm run consumer", project, { NATS_URL: "nats://127.0.0.1:1" });
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/^consumer: .*is "npm run dev" running at nats:\/\/127\.0\.0\.1:1\?\)$/m);
    expect(r.err).not.toMatch(STACK_LINE);
  });

  it("run: dev, then the consumer, then the producer; the consumer handles both events", { timeout: 300_000 }, async () => {
    const [devLine, consumerLine, producerLine] = readmeBlock("run");
    expect([devLine, consumerLine, producerLine]).toEqual(["npm run dev", "npm run consumer", "npm run producer"]);
    const dev = startTerminal(`${devLine} -- --port 0 --json`, project);
    await until("chronicle dev's endpoints", () => /^\{.*\}$/m.test(dev.out()));
    const info = JSON.parse(/^\{.*\}$/m.exec(dev.out())![0]) as { nats: string; registry: string };
    natsUrl = info.nats;
    registryUrl = info.registry;
    const urls = { NATS_URL: natsUrl, CHRONICLE_REGISTRY_URL: registryUrl };

    const consumer = startTerminal(consumerLine!, project, urls);
    await until("the consumer to start", () => consumer.out().includes("consuming orders"));
    const produced = ok(producerLine!, project, urls);
    expect(produced).toMatch(/OrderPlaced stored at sequence 1 \(partition \d+\)/);
    expect(produced).toMatch(/OrderShipped stored at sequence 2 \(partition \d+\)/);
    await until("the consumer to handle both events", () => consumer.out().includes("order o-1 shipped with ups"));
    expect(consumer.out()).toContain("order o-1 placed by c-1 (attempt 1)");
    await consumer.interrupt();
    expect(consumer.err()).not.toMatch(STACK_LINE);
  });

  it("check: commit, an unchanged schema passes against git, and push registers it", { timeout: 300_000 }, () => {
    const [commit, check, push] = readmeBlock("check");
    ok(commit!, project);
    const checked = ok(check!, project);
    expect(checked).toMatch(/^compatible: 2 events checked against git HEAD \([0-9a-f]{7}\) \(2 unchanged\)$/m);
    const pushed = ok(push!, project, { CHRONICLE_REGISTRY_URL: registryUrl });
    expect(pushed).toMatch(/registered {4}shop\.orders\.v1\.OrderPlaced v1 \(sha256:[0-9a-f]{64}\)/);
  });

  it("breaking: a changed field type fails against git (rule and location) and against the registry, and push registers nothing", { timeout: 300_000 }, () => {
    const proto = join(project, PROTO);
    const text = readFileSync(proto, "utf8");
    expect(text).toContain("int64 total_cents = 3;");
    writeFileSync(proto, text.replace("int64 total_cents = 3;", "string total_cents = 3;"));
    const [againstGit, againstRegistry] = readmeBlock("breaking");
    const git = sh(againstGit!, project);
    expect(git.status).toBe(1);
    expect(git.out).toMatch(/^proto\/shop\/orders\/v1\/orders\.proto:25:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE: Field "total_cents"/m);
    const registry = sh(againstRegistry!, project, { CHRONICLE_REGISTRY_URL: registryUrl });
    expect(registry.status).toBe(1);
    expect(registry.out).toMatch(/^proto\/shop\/orders\/v1\/orders\.proto:25:3: FIELD_WIRE_JSON_COMPATIBLE_TYPE: .*against registry v1\)$/m);
    const push = sh(readmeBlock("check")[2]!, project, { CHRONICLE_REGISTRY_URL: registryUrl });
    expect(push.status).toBe(1);
    expect(push.err).toContain("nothing was registered");
  });
});

describe.sequential("the packed packages", () => {
  const tarballs = () => readdirSync(join(project, "vendor/chronicle")).map((f) => join(project, "vendor/chronicle", f));

  it("import in the project, and its chronicle bin runs, executable", { timeout: 300_000 }, () => {
    expect(tarballs()).toHaveLength(7);
    for (const p of ["runtime", "testing", "registry", "codegen", "outbox", "console", "cli"]) {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", `const m = await import("@chronicle/${p}"); console.log(Object.keys(m).length);`], {
        cwd: project,
        encoding: "utf8",
      });
      expect(r.stderr, `import @chronicle/${p}`).toBe("");
      expect(Number(r.stdout.trim()), `exports of @chronicle/${p}`).toBeGreaterThan(0);
    }
    // the SQL drivers are optional peers: without one, opening that kind of database says what to install
    const noDriver = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `const { openOutboxDatabase } = await import("@chronicle/outbox"); openOutboxDatabase("x.db");`],
      { cwd: project, encoding: "utf8" },
    );
    expect(noDriver.status).not.toBe(0);
    expect(noDriver.stderr).toContain('needs the "better-sqlite3" package: npm install better-sqlite3@12');
    // the console's web UI ships built: nothing to build at install, and none is attempted
    const web = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const c = await import("@chronicle/console"); const fs = await import("node:fs"); console.log(c.ensureWebBuilt(), fs.existsSync(c.DEFAULT_WEB_DIR + "/index.html"));`,
      ],
      { cwd: project, encoding: "utf8" },
    );
    expect(web.stdout.trim()).toBe("packaged true");
    expect(statSync(join(project, "node_modules/@chronicle/cli/bin/chronicle.mjs")).mode & 0o111).not.toBe(0);
    const help = sh("npx --no-install chronicle --help", project);
    expect(help.status).toBe(0);
    expect(help.out).toContain("Usage: chronicle <command>");
    expect(help.out).toContain("-V, --version");
    expect(sh("npx --no-install chronicle --version", project).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("a service that installs only @chronicle/runtime gets neither ts-morph nor the nats-server installer", { timeout: 300_000 }, () => {
    const service = join(work, "runtime-only");
    mkdirSync(service);
    const runtime = tarballs().find((t) => /chronicle-runtime-/.test(t))!;
    writeFileSync(
      join(service, "package.json"),
      JSON.stringify({ name: "runtime-only", private: true, type: "module", dependencies: { "@chronicle/runtime": `file:${runtime}` } }),
    );
    ok("npm install", service);
    const tree = ok("npm ls --all", service);
    expect(tree).toContain("@chronicle/runtime@");
    for (const absent of ["ts-morph", "typescript@", "@chronicle/testing", "@chronicle/cli", "@chronicle/codegen", "@chronicle/registry"])
      expect(tree).not.toContain(absent);
    const grep = spawnSync("grep", ["-rl", "apt-get", join(service, "node_modules/@chronicle/runtime")], { encoding: "utf8" });
    expect(grep.stdout).toBe("");
  });

  it("in the clone, npx --no-install chronicle runs the CLI from source (a launcher with its exec bit, present right after npm ci)", () => {
    expect(statSync(join(root, "cli/bin/chronicle.mjs")).mode & 0o111).not.toBe(0);
    const r = sh("npx --no-install chronicle --version", root);
    expect(r.err).toBe("");
    expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
