import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { startLocalCluster, startLocalServer } from "./index.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startLocalServer", () => {
  it("starts JetStream on loopback, survives a kill and restart with its data, and cleans up", async () => {
    const server = await startLocalServer();
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { host: string; jetstream: unknown };
    expect(varz.host).toBe("127.0.0.1");

    let nc = await connect({ servers: server.url });
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "t", subjects: ["t.>"] });
    await nc.close();

    await server.kill("SIGKILL");
    expect(server.running).toBe(false);
    await server.restart();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info("t")).config.name).toBe("t");
    await nc.close();

    const pid = server.pid!;
    const dir = server.storeDir;
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it("keeps a persistent store folder after stop", async () => {
    const dir = `${process.env["TMPDIR"] ?? "/tmp"}/chronicle-persist-${process.pid}`;
    const server = await startLocalServer({ storeDir: dir });
    await server.stop();
    expect(existsSync(`${dir}/nats-server.conf`)).toBe(true);
    execFileSync("rm", ["-rf", dir]);
  });

  it("kills its servers when the parent process is SIGKILLed", async () => {
    const script = `
      const { startLocalServer } = await import(${JSON.stringify(new URL("./index.ts", import.meta.url).pathname)});
      const s = await startLocalServer();
      console.log(s.pid);
      setInterval(() => {}, 1000);
    `;
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const serverPid = await new Promise<number>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
    expect(alive(serverPid)).toBe(true);
    child.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    while (alive(serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(serverPid)).toBe(false);
  });
});

describe("startLocalCluster", () => {
  it("starts a 3-node JetStream cluster whose R3 stream survives losing its leader", async () => {
    await using cluster = await startLocalCluster({ nodes: 3 });
    expect(cluster.urls).toHaveLength(3);
    const nc = await connect({ servers: cluster.urls });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.add({ name: "r3", subjects: ["r3.>"], num_replicas: 3 });
    expect(info.config.num_replicas).toBe(3);
    const leader = (await jsm.streams.info("r3")).cluster?.leader;
    expect(leader).toMatch(/^n[123]$/);
    await cluster.server(leader!).kill("SIGKILL");
    const deadline = Date.now() + 20_000;
    let newLeader: string | undefined;
    while (Date.now() < deadline) {
      newLeader = await jsm.streams.info("r3").then(
        (i) => i.cluster?.leader,
        () => undefined,
      );
      if (newLeader && newLeader !== leader) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(newLeader).toMatch(/^n[123]$/);
    expect(newLeader).not.toBe(leader);
    await nc.close();
  });
});
