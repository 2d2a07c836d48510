import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ChronicleError } from "@chronicle/runtime";
import { compareVersions, ensureNatsServer, findNatsServer, parseServerVersion, resolveCacheDir } from "./index.js";

const saved = { bin: process.env["NATS_SERVER_BIN"], path: process.env["PATH"] };
afterEach(() => {
  if (saved.bin === undefined) delete process.env["NATS_SERVER_BIN"];
  else process.env["NATS_SERVER_BIN"] = saved.bin;
  process.env["PATH"] = saved.path;
});

function fakeServer(version: string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "fake-nats-"));
  const path = join(dir, "nats-server");
  writeFileSync(path, `#!/bin/sh\necho "nats-server: v${version}"\n`);
  chmodSync(path, 0o755);
  return { dir, path };
}

describe("nats-server provisioning", () => {
  it("parses and compares versions", () => {
    expect(parseServerVersion("nats-server: v2.15.1")).toBe("2.15.1");
    expect(parseServerVersion("garbage")).toBeUndefined();
    expect(compareVersions("2.11.0", "2.9.10")).toBeGreaterThan(0);
    expect(compareVersions("2.10.27", "2.11.0")).toBeLessThan(0);
  });

  it("uses NATS_SERVER_BIN when it is new enough", () => {
    const fake = fakeServer("2.12.3");
    process.env["NATS_SERVER_BIN"] = fake.path;
    expect(findNatsServer()).toEqual({ path: fake.path, version: "2.12.3", source: "env" });
    rmSync(fake.dir, { recursive: true });
  });

  it("refuses a NATS_SERVER_BIN that is too old, saying which version and how to install", () => {
    const fake = fakeServer("2.9.10");
    process.env["NATS_SERVER_BIN"] = fake.path;
    expect(() => findNatsServer()).toThrow(ChronicleError);
    expect(() => findNatsServer()).toThrow(/2\.9\.10.*2\.11\.0 or newer.*NATS_SERVER_BIN/s);
    rmSync(fake.dir, { recursive: true });
  });

  it("refuses a NATS_SERVER_BIN that does not exist", () => {
    process.env["NATS_SERVER_BIN"] = "/nonexistent/nats-server";
    expect(() => findNatsServer()).toThrow(/does not run as nats-server/);
  });

  it("keeps one cache per user: $CHRONICLE_CACHE_DIR, else $XDG_CACHE_HOME/chronicle, else ~/.cache/chronicle", () => {
    expect(resolveCacheDir({ CHRONICLE_CACHE_DIR: "/opt/cache", XDG_CACHE_HOME: "/xdg" })).toBe("/opt/cache");
    expect(resolveCacheDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/chronicle");
    expect(resolveCacheDir({ XDG_CACHE_HOME: "relative/path" })).toBe(join(homedir(), ".cache", "chronicle"));
    expect(resolveCacheDir({})).toBe(join(homedir(), ".cache", "chronicle"));
  });

  it("skips a too-old nats-server on PATH and falls back to the cache", async () => {
    const real = await ensureNatsServer();
    const cacheDir = mkdtempSync(join(tmpdir(), "chronicle-cache-"));
    mkdirSync(join(cacheDir, "bin"));
    copyFileSync(real.path, join(cacheDir, "bin", "nats-server"));
    const fake = fakeServer("2.10.27");
    delete process.env["NATS_SERVER_BIN"];
    process.env["PATH"] = `${fake.dir}:${saved.path ?? ""}`;
    const lines: string[] = [];
    const found = await ensureNatsServer({ cacheDir, log: (l) => lines.push(l) });
    expect(found).toEqual({ path: join(cacheDir, "bin", "nats-server"), version: real.version, source: "cache" });
    expect(lines.join("\n")).toContain("older than 2.11.0");
    rmSync(fake.dir, { recursive: true });
    rmSync(cacheDir, { recursive: true });
  });

  it("installs into an empty cache folder from Debian's packages with progress, then finds it there", { timeout: 180_000 }, async () => {
    delete process.env["NATS_SERVER_BIN"];
    process.env["PATH"] = "/usr/bin:/bin";
    const cacheDir = mkdtempSync(join(tmpdir(), "chronicle-cache-"));
    try {
      const progress: string[] = [];
      const installed = await ensureNatsServer({ cacheDir, log: (l) => progress.push(l) });
      expect(installed.source).toBe("installed");
      expect(installed.path).toBe(join(cacheDir, "bin", "nats-server"));
      // apt's lines as each file starts, and what was fetched in all
      expect(progress.some((l) => /^ {2}Get:\d+ .*nats-server/.test(l))).toBe(true);
      expect(progress.some((l) => /^ {2}Fetched /.test(l))).toBe(true);
      const again = await ensureNatsServer({ cacheDir });
      expect(again).toEqual({ ...installed, source: "cache" });
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
