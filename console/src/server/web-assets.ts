import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** The package's folder (from src/server/ or dist/server/ alike). */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where the built web UI lives in the package: `dist/web`. */
export const DEFAULT_WEB_DIR = join(PACKAGE_ROOT, "dist", "web");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

function newestMtime(dir: string): number {
  return Math.max(0, ...files(dir).map((f) => statSync(f).mtimeMs));
}

/** Blocks the thread for `ms` (the build runs before the server starts, synchronously). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function upToDate(src: string): boolean {
  const index = join(DEFAULT_WEB_DIR, "index.html");
  const sources = Math.max(newestMtime(src), newestMtime(join(PACKAGE_ROOT, "src", "gen")));
  return existsSync(index) && statSync(index).mtimeMs >= sources;
}

/**
 * Builds the web UI with Vite when the console runs from a source checkout
 * (its `web/` folder is there) and the built files are missing or older
 * than a source file; a packed package ships `dist/web` built and has no
 * `web/`, so nothing happens there. Processes that start together (test
 * workers) build once: a lock folder makes the others wait, and the build
 * goes to a temporary folder swapped in whole, so a server never reads a
 * half-written `dist/web`. Returns what was done, for the log.
 */
export function ensureWebBuilt(log: (line: string) => void = () => {}): "built" | "up to date" | "packaged" {
  const src = join(PACKAGE_ROOT, "web");
  if (!existsSync(join(src, "vite.config.mjs"))) return "packaged";
  if (upToDate(src)) return "up to date";
  const lock = join(PACKAGE_ROOT, "dist", ".web-build.lock");
  mkdirSync(join(PACKAGE_ROOT, "dist"), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // another process builds: wait for it; a lock older than 3 minutes was left by a process that died
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      else sleepSync(200);
    }
  }
  try {
    if (upToDate(src)) return "up to date";
    log("console: building the web UI (vite build, first run from source)...");
    const out = join(PACKAGE_ROOT, "dist", `.web-${process.pid}`);
    const vite = join(createRequire(import.meta.url).resolve("vite/package.json"), "..", "bin", "vite.js");
    const r = spawnSync(process.execPath, [vite, "build", "--config", "web/vite.config.mjs", "--logLevel", "warn", "--outDir", out], {
      cwd: PACKAGE_ROOT,
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`building the console's web UI failed (vite build exited ${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
    rmSync(DEFAULT_WEB_DIR, { recursive: true, force: true });
    renameSync(out, DEFAULT_WEB_DIR);
    return "built";
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | undefined;
  /** Content-hashed file names never change: cache them for a year. */
  immutable: boolean;
}

/** Security headers on every answer of the console's web UI. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/**
 * Serves the built web UI from memory: every file read and gzipped once at
 * start, `index.html` for `/` (never cached, so a new version is picked up),
 * files under `assets/` (content-hashed names) cached for a year. Returns a
 * handler for GET and HEAD; anything else, or a missing file, is a 404.
 */
export function webAssetsHandler(dir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const assets = new Map<string, Asset>();
  if (existsSync(join(dir, "index.html"))) {
    for (const f of files(dir)) {
      const body = readFileSync(f);
      const type = TYPES[extname(f)] ?? "application/octet-stream";
      const rel = `/${relative(dir, f).split("\\").join("/")}`;
      const compressible = /text|javascript|json|svg/.test(type) && body.length > 512;
      assets.set(rel, { type, body, gzip: compressible ? gzipSync(body, { level: 9 }) : undefined, immutable: rel.startsWith("/assets/") });
    }
  }
  const missing = Buffer.from(
    `<!doctype html><title>Chronicle Console</title><p>The console's web UI is not built in ${dir}. From a source checkout run <code>npm run build -w @chronicle/console</code>.</p>`,
  );
  return (req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?", 1)[0]!);
    const asset = assets.get(path === "/" ? "/index.html" : path);
    if ((req.method !== "GET" && req.method !== "HEAD") || !asset) {
      if (path === "/" && assets.size === 0) {
        res.writeHead(503, { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS }).end(missing);
        return;
      }
      res.writeHead(404, { "content-type": "text/plain", ...SECURITY_HEADERS }).end("not found\n");
      return;
    }
    const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body = gzip ? asset.gzip! : asset.body;
    res.writeHead(200, {
      "content-type": asset.type,
      "content-length": body.length,
      "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      vary: "accept-encoding",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
      ...SECURITY_HEADERS,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };
}
