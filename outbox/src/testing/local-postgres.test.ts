import { existsSync, readFileSync } from "node:fs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { findPostgresBinaries, startLocalPostgres } from "@chronicle/testing";
import { startChild } from "./child-process.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]!.startsWith("Z");
  } catch {
    return false;
  }
}

describe("startLocalPostgres", () => {
  it("finds the server programs", () => {
    expect(findPostgresBinaries()?.binDir).toMatch(/\S/);
  });

  it("starts on a loopback port (as nobody when root), serves queries, and stops leaving nothing behind", async () => {
    const server = await startLocalPostgres();
    const pid = server.pid!;
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
    if (process.getuid?.() === 0) expect(uid).toBe(65534);
    else expect(uid).toBe(process.getuid?.());
    const url = await server.createDatabase("probe");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const r = await client.query<{ addr: string; fsync: string }>("SELECT inet_server_addr()::text AS addr, current_setting('fsync') AS fsync");
    expect(r.rows[0]).toEqual({ addr: "127.0.0.1/32", fsync: "off" });
    await client.end();
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it("never outlives the process that started it, even when that process is SIGKILLed", async () => {
    const child = startChild(["postgres"]);
    await child.ready;
    const [, pid, dir] = /pid (\d+) dir (\S+)/.exec(child.output())!;
    expect(alive(Number(pid))).toBe(true);
    await child.kill();
    const deadline = Date.now() + 10_000;
    while (alive(Number(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(Number(pid))).toBe(false);
    const { rmSync } = await import("node:fs");
    rmSync(dir!, { recursive: true, force: true }); // the folder of a killed owner is left; remove it here
  });
});
