// docs/quickstart-tutorial.md, run literally on a fresh copy of the
// repository (the files git tracks or would add, committed in a new git
// repository, so `--against-git HEAD` has the page's starting point): the
// proto block is appended, the two files the page shows are written where it
// says, and every sh block runs exactly as printed, in page order. The dev
// server gets `--port 0 --json` (the variant the page gives for a taken
// port) and the other steps the NATS_URL it prints.
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { interruptAll, markedBlock, sh, shBlock, shellEnv, startTerminal, until } from "./shell.js";

const root = new URL("../..", import.meta.url).pathname;
const PAGE = "docs/quickstart-tutorial.md";
const page = readFileSync(join(root, PAGE), "utf8");
const work = mkdtempSync(join(tmpdir(), "chronicle-tutorial-"));
const copy = join(work, "chronicle");

afterAll(async () => {
  await interruptAll();
  rmSync(work, { recursive: true, force: true });
});

/**
 * A fresh copy: every file git tracks or would add (uncommitted changes
 * included), and a node_modules whose @chronicle packages are the copy's
 * own folders (everything else links to this checkout's installed packages).
 */
function freshCopy(): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    let mode: number;
    try {
      mode = statSync(join(root, file)).mode;
    } catch {
      continue; // deleted in the working tree
    }
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(join(root, file), join(copy, file));
    chmodSync(join(copy, file), mode);
  }
  const modules = join(copy, "node_modules");
  mkdirSync(join(modules, "@chronicle"), { recursive: true });
  for (const entry of readdirSync(join(root, "node_modules"))) {
    if (entry !== "@chronicle") symlinkSync(join(root, "node_modules", entry), join(modules, entry));
  }
  // workspace packages are named for their folders (@chronicle/runtime is runtime/); npm may install a
  // workspace's own dependency versions in its folder's node_modules
  for (const pkg of readdirSync(join(root, "node_modules/@chronicle"))) {
    symlinkSync(join(copy, pkg), join(modules, "@chronicle", pkg));
    if (existsSync(join(root, pkg, "node_modules"))) symlinkSync(join(root, pkg, "node_modules"), join(copy, pkg, "node_modules"));
  }
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: copy });
  execFileSync("git", ["add", "-A"], { cwd: copy });
  execFileSync("git", ["commit", "-q", "-m", "fresh clone"], { cwd: copy, env: shellEnv });
}

/** The commands of the sh block marked `<!-- step: NAME -->`. */
function step(name: string): string[] {
  return shBlock(page, `step: ${name}`);
}

function ok(line: string, env: NodeJS.ProcessEnv = {}): string {
  const r = sh(line, copy, env);
  expect(r.status, `${line}\n${r.out}\n${r.err}`).toBe(0);
  return r.out;
}

describe.sequential(PAGE, () => {
  let natsUrl = "";

  it("runs every sh block of the page, and only those", () => {
    const blocks = [...page.matchAll(/(<!-- [^>]+ -->\n)?```sh\n/g)];
    expect(blocks.map((b) => b[1]?.trim())).toEqual(
      ["check", "generate", "scaffold", "dev", "publish", "consume", "tail", "test"].map((s) => `<!-- step: ${s} -->`),
    );
  });

  it("1-2: the appended event is new and compatible against HEAD", { timeout: 600_000 }, () => {
    freshCopy();
    appendFileSync(
      join(copy, "examples/orders/proto/shop/orders/v1/orders.proto"),
      `\n${markedBlock(page, "append to examples/orders/proto/shop/orders/v1/orders.proto")}\n`,
    );
    const [check] = step("check");
    const out = ok(check!);
    expect(out).toMatch(/^ {2}new {11}shop\.orders\.v1\.OrderCancelled$/m);
    expect(out).toMatch(/^compatible: 5 events checked against git HEAD \([0-9a-f]{7}\) \(3 compatible, 1 new, 1 unchanged\)$/m);
  });

  it("3: generate; the type check fails exactly where ordersHandlers needs the new handler; scaffold fixes it", { timeout: 1_500_000 }, () => {
    const [gen, typecheck] = step("generate");
    ok(gen!);
    expect(readFileSync(join(copy, "examples/orders/src/gen/shop/orders/v1/orders_chronicle.ts"), "utf8")).toContain("publishOrderCancelled(");
    const failed = sh(typecheck!, copy);
    expect(failed.status).not.toBe(0);
    const errorFiles = new Set([...failed.out.matchAll(/^(\S+?)\(\d+,\d+\): error/gm)].map((m) => m[1]));
    expect([...errorFiles].sort()).toEqual(["examples/orders/src/inventory-service.ts", "examples/orders/src/order-summary.ts"]);
    const [scaffold, again] = step("scaffold");
    const added = ok(scaffold!);
    expect(added).toMatch(/^examples\/orders\/src\/inventory-service\.ts:\d+: added OrderCancelled in ordersHandlers\(\.\.\.\)$/m);
    expect(added).toMatch(/^examples\/orders\/src\/order-summary\.ts:\d+: added OrderCancelled in ordersHandlers\(\.\.\.\)$/m);
    ok(again!);
  });

  it("4-5: publishes OrderCancelled with the page's file, and the page's consumer prints it", { timeout: 300_000 }, async () => {
    const [dev] = step("dev");
    const server = startTerminal(`${dev!} --port 0 --json`, copy);
    await until("chronicle dev's endpoints", () => /^\{"nats".*\}$/m.test(server.out()));
    natsUrl = (JSON.parse(/^\{"nats".*\}$/m.exec(server.out())![0]) as { nats: string }).nats;
    for (const file of ["examples/orders/src/cancel-order.ts", "examples/orders/src/watch-cancellations.ts"]) {
      writeFileSync(join(copy, file), `${markedBlock(page, `file: ${file}`)}\n`);
    }
    const [publish] = step("publish");
    expect(ok(publish!, { NATS_URL: natsUrl })).toMatch(/^OrderCancelled stored at sequence 1, partition \d+$/m);
    const [consume] = step("consume");
    const consumer = startTerminal(consume!, copy, { NATS_URL: natsUrl });
    await until("the cancellation to be handled", () => consumer.out().includes("order o-1 cancelled: customer changed their mind (key o-1, attempt 1)"));
    await consumer.interrupt();
  });

  it("6: tail shows the stored event decoded; the new files type-check and the orders example's test passes", { timeout: 1_200_000 }, () => {
    const [tail] = step("tail");
    expect(ok(tail!, { NATS_URL: natsUrl })).toMatch(/^#1 p\d+ \S+ OrderCancelled key="o-1" \{"orderId":"o-1","reason":"customer changed their mind"\}$/m);
    const [typecheck, test] = step("test");
    ok(typecheck!);
    expect(ok(test!)).toMatch(/Tests\s+1 passed/);
  });
});
