// Test helper: runs `buf` (the oracle) on the shared breaking-change corpus and
// caches what it says, keyed by the content of each case and the buf version,
// in node_modules/.cache/chronicle/buf-oracle. Not exported from the package.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import type { RuleCategory } from "../types.js";

/** The repository root (this file lives in registry/src/compat/conformance). */
export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** The corpus folder, or undefined where it is absent (a user's clone has no ../shared). */
export function findCorpus(): string | undefined {
  const dir = process.env["CHRONICLE_BUF_CORPUS"] ?? join(repoRoot, "..", "shared", "conformance", "buf-breaking");
  return existsSync(join(dir, "previous")) && existsSync(join(dir, "current")) ? dir : undefined;
}

export const bufBin = join(repoRoot, "node_modules", ".bin", "buf");

/** One line of `buf breaking --error-format json`. */
export interface BufAnnotation {
  path?: string;
  start_line?: number;
  start_column?: number;
  type: string;
  message: string;
}

export interface OracleCase {
  name: string;
  previous: FileDescriptorSet;
  current: FileDescriptorSet;
  previousBinary: Uint8Array;
  currentBinary: Uint8Array;
  buf: Record<RuleCategory, BufAnnotation[]>;
}

interface CacheEntry {
  previous: string;
  current: string;
  buf: Record<RuleCategory, BufAnnotation[]>;
}

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bufBin, args, { cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

let bufVersion: Promise<string> | undefined;

function version(): Promise<string> {
  bufVersion ??= run(["--version"], repoRoot).then((r) => r.stdout.trim());
  return bufVersion;
}

function listFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listFiles(p, base, out);
    else out.push(relative(base, p));
  }
  return out;
}

function caseHash(corpus: string, name: string, bufVer: string): string {
  const h = createHash("sha256").update(`oracle-v1\0${bufVer}\0${name}\0`);
  for (const side of ["previous", "current"]) {
    const dir = join(corpus, side, name);
    for (const f of listFiles(dir))
      h.update(`${side}/${f}\0`)
        .update(readFileSync(join(dir, f)))
        .update("\0");
  }
  return h.digest("hex");
}

const categoryConfig = (category: RuleCategory): string => JSON.stringify({ version: "v1", breaking: { use: [category] } });

async function computeCase(corpus: string, name: string): Promise<CacheEntry> {
  const tmp = mkdtempSync(join(tmpdir(), "chronicle-oracle-"));
  try {
    const images: string[] = [];
    for (const side of ["previous", "current"]) {
      const out = join(tmp, `${side}.binpb`);
      const r = await run(["build", `${side}/${name}`, "--config", '{"version":"v1"}', "--as-file-descriptor-set", "-o", out], corpus);
      if (r.code !== 0) throw new Error(`buf build ${side}/${name} failed: ${r.stderr}`);
      images.push(readFileSync(out).toString("base64"));
    }
    const buf = {} as Record<RuleCategory, BufAnnotation[]>;
    for (const category of ["WIRE", "WIRE_JSON"] as const) {
      const r = await run(
        [
          "breaking",
          `current/${name}`,
          "--against",
          `previous/${name}`,
          "--error-format",
          "json",
          "--config",
          categoryConfig(category),
          "--against-config",
          '{"version":"v1"}',
        ],
        corpus,
      );
      if (r.code !== 0 && r.code !== 100) throw new Error(`buf breaking ${name} failed (${r.code}): ${r.stderr}`);
      buf[category] = r.stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as BufAnnotation)
        .map((a) => (a.path === undefined ? a : { ...a, path: stripCasePrefix(a.path, name) }));
    }
    return { previous: images[0] ?? "", current: images[1] ?? "", buf };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function stripCasePrefix(path: string, name: string): string {
  for (const side of ["current", "previous"]) {
    const prefix = `${side}/${name}/`;
    if (path.startsWith(prefix)) return path.slice(prefix.length);
  }
  return path;
}

/**
 * Load every case of the corpus with Buf's verdicts, running buf at most
 * `parallel` processes at a time for cases not in the cache.
 */
export async function loadOracle(corpus: string, parallel = 2): Promise<OracleCase[]> {
  const bufVer = await version();
  const cacheDir = join(repoRoot, "node_modules", ".cache", "chronicle", "buf-oracle");
  mkdirSync(cacheDir, { recursive: true });
  const names = readdirSync(join(corpus, "current"))
    .filter((n) => existsSync(join(corpus, "previous", n)))
    .sort();
  const results: OracleCase[] = new Array<OracleCase>(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const name = names[i];
      if (name === undefined) return;
      const file = join(cacheDir, `${caseHash(corpus, name, bufVer)}.json`);
      let entry: CacheEntry;
      if (existsSync(file)) {
        entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
      } else {
        entry = await computeCase(corpus, name);
        writeFileSync(file, JSON.stringify(entry));
      }
      const previousBinary = Buffer.from(entry.previous, "base64");
      const currentBinary = Buffer.from(entry.current, "base64");
      results[i] = {
        name,
        previousBinary,
        currentBinary,
        previous: fromBinary(FileDescriptorSetSchema, previousBinary),
        current: fromBinary(FileDescriptorSetSchema, currentBinary),
        buf: entry.buf,
      };
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}
