import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ensureWebBuilt, startConsoleServer, type ConsoleServer, type ProtoCompiler } from "@chronicle/console";
import { loadTokensFile, parseTokens, type AuthOptions, type TokenEntry } from "@chronicle/registry";
import type { ChronicleConnection } from "@chronicle/runtime";
import { ExitCode, intOption, UsageError, type Command, type CommandContext } from "../framework/command.js";
import { connectFromCli, natsConnectOptionsOf, natsConnectionOptions, redactUrl } from "../framework/nats-connection.js";
import { runBuf } from "../project/buf.js";
import { cliVersion } from "../version.js";

const REGISTRY_TOKEN_ENV = "CHRONICLE_REGISTRY_TOKEN";
const CONSOLE_TOKENS_ENV = "CHRONICLE_CONSOLE_TOKENS";

/**
 * Compiles pasted .proto files with the buf CLI the CLI ships, beside
 * Chronicle's own options.proto (so `import "chronicle/v1/options.proto"`
 * resolves), into a self-contained descriptor set. @private
 */
export const compileWithBuf: ProtoCompiler = async (files) => {
  const dir = mkdtempSync(join(tmpdir(), "chronicle-console-proto-"));
  try {
    for (const f of files) {
      mkdirSync(dirname(join(dir, "src", f.name)), { recursive: true });
      writeFileSync(join(dir, "src", f.name), f.content);
    }
    const modules = ["src"];
    if (!files.some((f) => f.name === "chronicle/v1/options.proto")) {
      const options = join(createRequire(import.meta.url).resolve("@chronicle/codegen/package.json"), "..", "proto", "chronicle", "v1", "options.proto");
      mkdirSync(join(dir, "deps", "chronicle", "v1"), { recursive: true });
      writeFileSync(join(dir, "deps", "chronicle", "v1", "options.proto"), readFileSync(options));
      modules.push("deps");
    }
    writeFileSync(join(dir, "buf.yaml"), `version: v2\nmodules:\n${modules.map((m) => `  - path: ${m}\n`).join("")}`);
    const built = await runBuf(["build", ".", "-o", "-#format=binpb"], { cwd: dir });
    if (built.code !== 0)
      throw new ConnectError(`the .proto files do not compile:\n${built.stderr.trim().split(dir).join("").replace(/src\//g, "")}`, Code.InvalidArgument);
    return fromBinary(FileDescriptorSetSchema, built.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Reads the console's tokens from `--tokens FILE` and `$CHRONICLE_CONSOLE_TOKENS`. Never prints a token. */
function readTokens(file: string | undefined, env: string | undefined): TokenEntry[] {
  const tokens: TokenEntry[] = [];
  try {
    if (file) tokens.push(...loadTokensFile(file));
    if (env) tokens.push(...parseTokens(env));
  } catch (err) {
    throw new UsageError(`cannot read console tokens: ${(err as Error).message}`);
  }
  return tokens;
}

/** What {@link startConsoleFromCli} needs besides the connection. @private */
export interface ConsoleStart {
  conn: ChronicleConnection;
  natsServers: string;
  registryUrl: string | undefined;
  registryToken: string | undefined;
  auth: AuthOptions;
  port: number;
  host: string;
  natsMonitorUrl?: string;
  tls?: { certFile: string; keyFile: string };
  log: (line: string) => void;
}

/** Builds the web UI when running from source, then starts the console. Used by `chronicle console` and `chronicle dev`. @private */
export async function startConsoleFromCli(s: ConsoleStart): Promise<ConsoleServer> {
  ensureWebBuilt(s.log);
  return startConsoleServer({
    connection: s.conn,
    natsServers: s.natsServers,
    ...(s.registryUrl ? { registry: { url: s.registryUrl, ...(s.registryToken ? { token: s.registryToken } : {}) } } : {}),
    auth: s.auth,
    port: s.port,
    host: s.host,
    ...(s.natsMonitorUrl ? { natsMonitorUrl: s.natsMonitorUrl } : {}),
    ...(s.tls ? { tls: s.tls } : {}),
    compileProto: compileWithBuf,
    version: cliVersion,
    log: s.log,
  }).catch((err: unknown) => {
    throw new UsageError(`cannot start the console: ${(err as Error).message}`);
  });
}

function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** `chronicle console`: the web console. */
export const consoleCommand: Command = {
  name: "console",
  summary: "Serve the Chronicle Console: a web UI for schemas, streams, consumer groups and dead letters",
  description: [
    "Serves the console's web UI and its API (Connect: chronicle.console.v1.OperationsService and the registry's chronicle.registry.v1.RegistryService, forwarded) on one port, connected to NATS with the usual NATS options and to the registry with --registry.",
    `Console tokens come from --tokens FILE (JSON array of {name, role, token} or lines name:role:token) and $${CONSOLE_TOKENS_ENV}; roles: read (look), write (redrive, republish, register schemas), admin (purge, rewind, schema settings). Destructive actions are written to an audit log (the JetStream stream chronicle_console_audit).`,
    "See docs/console.md.",
  ].join("\n"),
  options: {
    ...natsConnectionOptions,
    registry: { type: "string", valueName: "URL", description: "Schema registry base URL (schemas, decoding); default $CHRONICLE_REGISTRY_URL" },
    "registry-token": { type: "string", valueName: "TOKEN", description: `The console's token for the registry (default: $${REGISTRY_TOKEN_ENV})` },
    port: { type: "string", valueName: "PORT", description: "Port to listen on, 0 for any free port", default: "8090" },
    host: { type: "string", valueName: "ADDR", description: "Address to bind", default: "127.0.0.1" },
    tokens: { type: "string", valueName: "FILE", description: "Console tokens file" },
    "anonymous-read": { type: "boolean", description: "Let requests without a token read (never write)" },
    "https-cert": { type: "string", valueName: "FILE", description: "PEM certificate: serve HTTPS (with --https-key)" },
    "https-key": { type: "string", valueName: "FILE", description: "PEM private key of --https-cert" },
    "nats-monitor": { type: "string", valueName: "URL", description: "NATS monitoring URL (http://host:8222), to show sync_interval" },
    json: { type: "boolean", description: "Print the endpoint as one JSON line" },
  },
  examples: [
    "chronicle console --registry http://127.0.0.1:8081 --anonymous-read",
    `${CONSOLE_TOKENS_ENV}=ops:admin:$OPS_TOKEN,dev:read:$DEV_TOKEN chronicle console --servers nats://nats:4222 --registry https://registry.example.com --host 0.0.0.0`,
  ],
  async run(ctx) {
    const port = intOption(ctx.values["port"], "port", 0, 65535) ?? 8090;
    const cert = str(ctx, "https-cert");
    const key = str(ctx, "https-key");
    if ((cert === undefined) !== (key === undefined)) throw new UsageError("--https-cert and --https-key go together");
    const registryUrl = str(ctx, "registry") ?? process.env["CHRONICLE_REGISTRY_URL"];
    if (registryUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(registryUrl))
      throw new UsageError(`--registry must be an http:// or https:// URL, got ${JSON.stringify(registryUrl)}`);
    const tokens = readTokens(str(ctx, "tokens"), process.env[CONSOLE_TOKENS_ENV]);
    const anonymousRead = ctx.values["anonymous-read"] === true;
    if (tokens.length === 0 && !anonymousRead)
      throw new UsageError(`no console tokens: pass --tokens FILE or set $${CONSOLE_TOKENS_ENV} (or --anonymous-read for a read-only console)`);
    const natsServers = redactUrl(natsConnectOptionsOf(ctx, "chronicle-console").servers.toString());
    const conn = await connectFromCli(ctx, "chronicle-console");
    try {
      const server = await startConsoleFromCli({
        conn,
        natsServers,
        registryUrl,
        registryToken: str(ctx, "registry-token") ?? process.env[REGISTRY_TOKEN_ENV],
        auth: { tokens, anonymousRead },
        port,
        host: String(ctx.values["host"]),
        ...(str(ctx, "nats-monitor") ? { natsMonitorUrl: str(ctx, "nats-monitor")! } : {}),
        ...(cert && key ? { tls: { certFile: cert, keyFile: key } } : {}),
        log: (l) => ctx.warn(l),
      });
      if (ctx.values["json"]) ctx.print(JSON.stringify({ console: server.url, nats: natsServers, registry: registryUrl ?? null }));
      else ctx.print(`Chronicle Console  ${server.url}  (NATS ${natsServers}; registry ${registryUrl ?? "none"}; Ctrl-C to stop)`);
      await new Promise<void>((done) => {
        if (ctx.signal.aborted) done();
        ctx.signal.addEventListener("abort", () => done(), { once: true });
      });
      await server.close();
    } finally {
      await conn.close();
    }
    return ExitCode.Ok;
  },
};
