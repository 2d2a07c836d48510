import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { RegistryError } from "../service/registry-error.js";

/** One `.proto` source file: its import path and text. */
export interface ProtoSource {
  name: string;
  text: string;
}

let bufCommand: { command: string; args: string[] } | undefined;

/**
 * The buf CLI of the `@bufbuild/buf` package: its platform binary when it
 * resolves (no Node start-up per compile), else buf's Node launcher.
 * `$BUF_BIN` overrides both.
 */
function findBuf(): { command: string; args: string[] } {
  if (process.env["BUF_BIN"]) return { command: process.env["BUF_BIN"], args: [] };
  if (bufCommand) return bufCommand;
  const require = createRequire(import.meta.url);
  const launcher = require.resolve("@bufbuild/buf/bin/buf");
  const arch = process.arch === "arm64" ? "aarch64" : process.arch === "arm" ? "armv7" : process.arch;
  try {
    const exe = createRequire(launcher).resolve(`@bufbuild/buf-${process.platform}-${arch}/bin/buf${process.platform === "win32" ? ".exe" : ""}`);
    bufCommand = { command: exe, args: [] };
  } catch {
    bufCommand = { command: process.execPath, args: [launcher] };
  }
  return bufCommand;
}

function run(args: readonly string[], cwd: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const buf = findBuf();
  return new Promise((resolve, reject) => {
    const child = spawn(buf.command, [...buf.args, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(new RegistryError("internal", `cannot run the buf compiler (${buf.command}): ${e.message}`, { cause: e })));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

/**
 * Compiles `.proto` source text into a binary FileDescriptorSet with the
 * buf CLI (the compiler `buf build` is, so text gives the same descriptors
 * as the user's own `buf build` of the same files): `main` and every file
 * it imports, transitively, with source info; well-known types come from
 * buf itself. `imports` are the files `main` may import, by their import
 * path. A file that does not compile is `invalid_schema` with the
 * compiler's message (file:line:column: what).
 */
export async function compileProtoText(main: ProtoSource, imports: readonly ProtoSource[]): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), "chronicle-proto-"));
  try {
    await writeFile(join(dir, "buf.yaml"), "version: v2\n");
    for (const file of [main, ...imports]) {
      if (file.name.startsWith("/") || file.name.split("/").includes("..") || !file.name.endsWith(".proto")) {
        throw new RegistryError("invalid_schema", `file name ${JSON.stringify(file.name)} is not a relative .proto path`);
      }
      await mkdir(dirname(join(dir, file.name)), { recursive: true });
      await writeFile(join(dir, file.name), file.text);
    }
    const { code, stdout, stderr } = await run(["build", ".", "--path", main.name, "--as-file-descriptor-set", "-o", "-#format=binpb"], dir);
    if (code !== 0) throw new RegistryError("invalid_schema", `schema does not compile: ${stderr.trim().split("\n").slice(0, 5).join("; ")}`);
    return new Uint8Array(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
