import { join, resolve } from "node:path";
import { startRegistryServer } from "@chronicle/registry";
import { connect } from "@chronicle/runtime";
import { ensureNatsServer, startLocalServer } from "@chronicle/testing";
import { ExitCode } from "../../framework/command.js";
import { startConsoleFromCli } from "../console/start-console.js";
import type { DevContext } from "./spec.js";

/** Runs `chronicle dev` until Ctrl-C. */
export async function runDev(ctx: DevContext): Promise<number> {
  const port = ctx.values.port;
  const registryPort = ctx.values["registry-port"] ?? (port === 0 ? 0 : 8081);
  const dataDir = resolve(ctx.cwd, ctx.values.data);
  const binary = await ensureNatsServer({ log: (l) => ctx.warn(`nats-server: ${l}`) });
  const server = await startLocalServer({
    binary: binary.path,
    storeDir: join(dataDir, "nats"),
    ...(port ? { port } : {}),
    syncAlways: ctx.values["sync-always"],
  });
  // the registry of a development setup: loopback only, no tokens needed
  const registry = await startRegistryServer({ nats: server.url, port: registryPort, auth: { tokens: [], anonymousAdmin: true } }).catch(
    async (err: unknown) => {
      await server.stop();
      throw err;
    },
  );
  // the console of a development setup: loopback only, anyone may do anything (as with the registry)
  const conn = await connect({ servers: server.url, name: "chronicle-console" });
  const web = await startConsoleFromCli({
    conn,
    natsServers: server.url,
    registryUrl: registry.url,
    registryToken: undefined,
    auth: { tokens: [], anonymousAdmin: true },
    port: ctx.values["console-port"] ?? (port === 0 ? 0 : 8090),
    host: "127.0.0.1",
    natsMonitorUrl: server.monitorUrl,
    log: (l) => ctx.warn(l),
  }).catch(async (err: unknown) => {
    await conn.close();
    await registry.close();
    await server.stop();
    throw err;
  });
  if (ctx.values.json) {
    ctx.print(JSON.stringify({ nats: server.url, monitor: server.monitorUrl, registry: registry.url, console: web.url, data: dataDir }));
  } else {
    ctx.print(`NATS with JetStream  ${server.url}`);
    ctx.print(`monitoring           ${server.monitorUrl}`);
    ctx.print(`schema registry      ${registry.url}`);
    ctx.print(`console              ${web.url}`);
    ctx.print(`data                 ${dataDir}`);
    ctx.print("");
    ctx.print(`Next: export NATS_URL=${server.url} CHRONICLE_REGISTRY_URL=${registry.url}, then run your services or "chronicle streams apply".`);
    ctx.print("Press Ctrl-C to stop.");
  }
  await new Promise<void>((done) => {
    if (ctx.signal.aborted) done();
    ctx.signal.addEventListener("abort", () => done(), { once: true });
  });
  await web.close();
  await conn.close();
  await registry.close();
  await server.stop();
  if (!ctx.values.json) ctx.print("stopped");
  return ExitCode.Ok;
}
