// Issue #10, scenario 6: durability settings. `sync_interval: always` is
// rendered, reported by the server, and reachable from `chronicle dev`;
// acknowledged events survive a SIGKILL of the process without it (the page
// cache survives a process crash; only a power loss needs the fsync).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { connect, ensureStream } from "@chronicle/runtime";
import { startLocalCluster, startLocalServer } from "@chronicle/testing";
import { BREAK, exited, notes, noteStream, provision, publishAll, scaled, storedCounts } from "./helpers.js";

interface Varz {
  jetstream?: { config?: { sync_always?: boolean; sync_interval?: number } };
}
const varz = async (monitorUrl: string) => (await (await fetch(`${monitorUrl}/varz`)).json()) as Varz;

// CHRONICLE_RELIABILITY_BREAK=durability: the settings are not passed (syncAlways, --sync-always,
// replicas), which is what a product that dropped them would look like: the tests below must fail.
// (=memory breaks the last test: the stream is kept in memory, see provision.)
const BROKEN = BREAK === "durability";

describe("durability settings", () => {
  it(
    "startLocalServer and startLocalCluster with syncAlways render sync_interval: always and the server reports sync_always",
    { timeout: 90_000 },
    async () => {
      await using plain = await startLocalServer();
      await using synced = await startLocalServer({ syncAlways: !BROKEN });
      expect(readFileSync(join(synced.storeDir, "nats-server.conf"), "utf8")).toMatch(/^\s*sync_interval: always$/m);
      expect(readFileSync(join(plain.storeDir, "nats-server.conf"), "utf8")).not.toMatch(/sync_interval/);
      expect((await varz(synced.monitorUrl)).jetstream?.config?.sync_always).toBe(true);
      const plainConfig = (await varz(plain.monitorUrl)).jetstream?.config;
      expect(plainConfig?.sync_always ?? false).toBe(false);
      expect(plainConfig?.sync_interval).toBe(120e9); // the default: fsync every 2 minutes

      await using cluster = await startLocalCluster({ nodes: 3, syncAlways: !BROKEN });
      for (const node of cluster.servers) expect((await varz(node.monitorUrl)).jetstream?.config?.sync_always, node.name).toBe(true);
    },
  );

  it("chronicle dev --sync-always starts a server that reports sync_always", { timeout: 60_000 }, async () => {
    const bin = fileURLToPath(new URL("../../cli/src/bin.ts", import.meta.url));
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "chronicle-rel-dev-"));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=@chronicle/source", bin, "dev", ...(BROKEN ? [] : ["--sync-always"]), "--port", "0", "--data", dir, "--json"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const l = out.split("\n").find((x) => x.startsWith("{"));
          if (l) resolve(l);
        });
        child.once("exit", (code) => reject(new Error(`chronicle dev exited with ${code}`)));
      });
      const { monitor } = JSON.parse(line) as { monitor: string };
      expect((await varz(monitor)).jetstream?.config?.sync_always).toBe(true);
    } finally {
      child.kill("SIGINT");
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stream definitions carry replicas to the server", { timeout: 60_000 }, async () => {
    await using cluster = await startLocalCluster({ nodes: 3 });
    await using conn = await connect({ servers: cluster.urls });
    await ensureStream(conn, noteStream("r3", 2, BROKEN ? 1 : 3));
    expect((await conn.jsm.streams.info("r3")).config.num_replicas).toBe(3);
    expect((await conn.jsm.streams.info("r3_dlq")).config.num_replicas).toBe(3);
  });

  it("without sync_interval: always, events acknowledged just before a SIGKILL of the server are there after the restart", { timeout: 60_000 }, async () => {
    const EVENTS = scaled(5000, 50_000);
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const def = noteStream("pagecache", 4);
    await provision(conn, def);
    const pub = await publishAll(conn, def, notes(EVENTS, 100), { window: 2500 });
    expect(pub.acked.size).toBe(EVENTS);
    await server.kill("SIGKILL"); // at once after the last ack: nothing was fsynced on purpose
    await server.restart();
    const stored = await storedCounts(conn, "pagecache");
    const lost = [...pub.acked.keys()].filter((v) => !stored.has(v));
    console.log(`SIGKILL right after acks, no fsync: events=${EVENTS} lost=${lost.length}`);
    expect(lost).toEqual([]);
  });
});
