import { join, resolve } from "node:path";
import { startRegistryServer } from "@chronicle/registry";
import { connect } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { startConsoleFromCli } from "./console.js";
import { ExitCode, intOption, type Command } from "../framework/command.js";

/** `chronicle dev`: a local NATS (and later the registry) for development. */
export const devCommand: Command = {
  name: "dev",
  summary: "Start a local NATS server with JetStream for development",
  description:
    "Starts a local nats-server with JetStream on 127.0.0.1 (installing one on first use), keeps its data in .chronicle/ of the current folder, prints its URL and what to do next, and stops everything cleanly on Ctrl-C.",
  options: {
    port: { type: "string", valueName: "PORT", description: "Client port, 0 for any free port", default: "4222" },
    data: { type: "string", valueName: "DIR", description: "Data folder", default: ".chronicle" },
    "sync-always": { type: "boolean", description: "fsync every write before acknowledging it (sync_interval: always)" },
    json: { type: "boolean", description: "Print the endpoints as one JSON line" },
    "registry-port": {
      type: "string",
      valueName: "PORT",
      description: "Schema registry port (open to anyone on loopback), 0 for any free port (default: 8081, or 0 with --port 0)",
    },
    "console-port": {
      type: "string",
      valueName: "PORT",
      description: "Console port (open to anyone on loopback), 0 for any free port (default: 8090, or 0 with --port 0)",
    },
  },
  examples: ["chronicle dev", "chronicle dev --port 0 --data /tmp/chronicle --json"],
  async run(ctx) {
    const port = intOption(ctx.values["port"], "port", 0, 65535);
    const dataDir = resolve(ctx.cwd, String(ctx.values["data"]));
    const server = await startLocalServer({
      storeDir: join(dataDir, "nats"),
      ...(port ? { port } : {}),
      syncAlways: ctx.values["sync-always"] === true,
    });
    // the registry of a development setup: loopback only, no tokens needed
    const registryPort = intOption(ctx.values["registry-port"], "registry-port", 0, 65535) ?? (port === 0 ? 0 : 8081);
    const registry = await startRegistryServer({ nats: server.url, port: registryPort, auth: { tokens: [], anonymousAdmin: true } }).catch(
      async (err: unknown) => {
        await server.stop();
        throw err;
      },
    );
    // the console of a development setup: loopback only, anyone may do anything (as with the registry)
    const conn = await connect({ servers: server.url, name: "chronicle-console" });
    const consolePort = intOption(ctx.values["console-port"], "console-port", 0, 65535) ?? (port === 0 ? 0 : 8090);
    const web = await startConsoleFromCli({
      conn,
      natsServers: server.url,
      registryUrl: registry.url,
      registryToken: undefined,
      auth: { tokens: [], anonymousAdmin: true },
      port: consolePort,
      host: "127.0.0.1",
      natsMonitorUrl: server.monitorUrl,
      log: (l) => ctx.warn(l),
    });
    if (ctx.values["json"]) {
      ctx.print(JSON.stringify({ nats: server.url, monitor: server.monitorUrl, registry: registry.url, console: web.url, data: dataDir }));
    } else {
      ctx.print(`NATS with JetStream  ${server.url}`);
      ctx.print(`monitoring           ${server.monitorUrl}`);
      ctx.print(`schema registry      ${registry.url}`);
      ctx.print(`console              ${web.url}`);
      ctx.print(`data                 ${dataDir}`);
      ctx.print("");
      ctx.print(`Next: export NATS_URL=${server.url}, then run your services or "chronicle streams apply".`);
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
    if (!ctx.values["json"]) ctx.print("stopped");
    return ExitCode.Ok;
  },
};
