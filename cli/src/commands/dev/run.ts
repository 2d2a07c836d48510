import { join, resolve } from "node:path";
import { startRegistryServer } from "@chronicle/registry";
import { ensureNatsServer, startLocalServer } from "@chronicle/testing";
import { ExitCode } from "../../framework/command.js";
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
  if (ctx.values.json) {
    ctx.print(JSON.stringify({ nats: server.url, monitor: server.monitorUrl, registry: registry.url, data: dataDir }));
  } else {
    ctx.print(`NATS with JetStream  ${server.url}`);
    ctx.print(`monitoring           ${server.monitorUrl}`);
    ctx.print(`schema registry      ${registry.url}`);
    ctx.print(`data                 ${dataDir}`);
    ctx.print("");
    ctx.print(`Next: export NATS_URL=${server.url} CHRONICLE_REGISTRY_URL=${registry.url}, then run your services or "chronicle streams apply".`);
    ctx.print("Press Ctrl-C to stop.");
  }
  await new Promise<void>((done) => {
    if (ctx.signal.aborted) done();
    ctx.signal.addEventListener("abort", () => done(), { once: true });
  });
  await registry.close();
  await server.stop();
  if (!ctx.values.json) ctx.print("stopped");
  return ExitCode.Ok;
}
