import { ConnectError } from "@connectrpc/connect";
import { loadTokensFile, parseTokens, startRegistryServer, type TokenEntry } from "@chronicle/registry";
import { ExitCode, intOption, UsageError, type Command } from "../framework/command.js";
import { connectFromCli, natsConnectOptionsOf, natsConnectionOptions, redactUrl } from "../framework/nats-connection.js";

// the registry's own --tls-cert/--tls-key serve HTTPS; NATS client certificates come from $NATS_CERT/$NATS_KEY
const { "tls-cert": _natsCert, "tls-key": _natsKey, ...natsOptionsWithoutTls } = natsConnectionOptions;

/** Reads the tokens of `--tokens FILE` and `$CHRONICLE_REGISTRY_TOKENS`. Never prints a token. */
function readTokens(file: string | undefined, env: string | undefined): TokenEntry[] {
  const tokens: TokenEntry[] = [];
  try {
    if (file) tokens.push(...loadTokensFile(file));
    if (env) tokens.push(...parseTokens(env));
  } catch (err) {
    throw new UsageError(`cannot read registry tokens: ${(err as Error).message}`);
  }
  return tokens;
}

/** `chronicle registry serve`: the schema registry server. */
export const registryCommand: Command = {
  name: "registry",
  summary: "Run the schema registry",
  subcommands: [
    {
      name: "serve",
      summary: "Serve the schema registry (Connect, gRPC, gRPC-Web) with its data in a JetStream KV bucket",
      description:
        "Serves chronicle.registry.v1.RegistryService over Connect (JSON and binary), gRPC and gRPC-Web on one port, plus GET /schemas/ids/<id> (the binary FileDescriptorSet) and GET /healthz. State lives in a JetStream KV bucket, so any number of servers can share one NATS. Tokens come from --tokens FILE (JSON array of {name, role, token} or lines name:role:token) and $CHRONICLE_REGISTRY_TOKENS (name:role:token,...); roles are read, write and admin. See docs/registry.md.",
      options: {
        ...natsOptionsWithoutTls,
        nats: { type: "string", valueName: "URL", description: "Same as --servers" },
        port: { type: "string", valueName: "PORT", description: "Port to listen on, 0 for any free port", default: "8081" },
        host: { type: "string", valueName: "ADDR", description: "Address to bind", default: "127.0.0.1" },
        tokens: { type: "string", valueName: "FILE", description: "Bearer tokens file" },
        "anonymous-read": { type: "boolean", description: "Let requests without a token read" },
        "read-only": { type: "boolean", description: "Refuse every write" },
        "tls-cert": { type: "string", valueName: "FILE", description: "PEM certificate: serve HTTPS (with --tls-key)" },
        "tls-key": { type: "string", valueName: "FILE", description: "PEM private key of --tls-cert" },
        bucket: { type: "string", valueName: "NAME", description: "KV bucket", default: "chronicle_registry" },
        replicas: { type: "string", valueName: "N", description: "Replicas of the bucket when it is created", default: "1" },
        "max-schema-bytes": {
          type: "string",
          valueName: "BYTES",
          description: "Largest schema accepted (lowered to the server's max_payload)",
          default: "4194304",
        },
        json: { type: "boolean", description: "Print the endpoint as one JSON line" },
      },
      examples: [
        "chronicle registry serve --nats nats://127.0.0.1:4222 --port 8081 --anonymous-read",
        "CHRONICLE_REGISTRY_TOKENS=ci:write:$CI_TOKEN,ops:admin:$OPS_TOKEN chronicle registry serve --tls-cert cert.pem --tls-key key.pem",
      ],
      async run(ctx) {
        const port = intOption(ctx.values["port"], "port", 0, 65535);
        const replicas = intOption(ctx.values["replicas"], "replicas", 1, 5);
        const maxSchemaBytes = intOption(ctx.values["max-schema-bytes"], "max-schema-bytes", 1024, 64 * 1024 * 1024);
        const cert = ctx.values["tls-cert"] as string | undefined;
        const key = ctx.values["tls-key"] as string | undefined;
        if ((cert === undefined) !== (key === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
        const tokens = readTokens(ctx.values["tokens"] as string | undefined, process.env["CHRONICLE_REGISTRY_TOKENS"]);
        const anonymousRead = ctx.values["anonymous-read"] === true;
        if (tokens.length === 0)
          ctx.warn(`registry: no tokens configured: writes are refused${anonymousRead ? "" : " and so are reads (pass --anonymous-read)"}`);
        if (ctx.values["nats"] !== undefined && ctx.values["servers"] !== undefined) throw new UsageError("pass --nats or --servers, not both");
        // --tls-cert/--tls-key here are the registry's own HTTPS; a NATS client certificate comes from $NATS_CERT/$NATS_KEY
        const natsCtx = {
          ...ctx,
          values: { ...ctx.values, servers: ctx.values["nats"] ?? ctx.values["servers"], "tls-cert": undefined, "tls-key": undefined },
        };
        const nats = redactUrl(natsConnectOptionsOf(natsCtx, "chronicle-registry").servers.toString());
        const conn = await connectFromCli(natsCtx, "chronicle-registry");
        try {
          const server = await startRegistryServer({
            connection: conn.nc,
            ...(port !== undefined ? { port } : {}),
            host: String(ctx.values["host"]),
            bucket: String(ctx.values["bucket"]),
            ...(replicas !== undefined ? { replicas } : {}),
            ...(maxSchemaBytes !== undefined ? { maxSchemaBytes } : {}),
            auth: { tokens, anonymousRead },
            readOnly: ctx.values["read-only"] === true,
            ...(cert && key ? { tls: { certFile: cert, keyFile: key } } : {}),
            log: (l) => ctx.warn(l),
          }).catch((err: unknown) => {
            // a taken port, unreadable TLS files, no JetStream: say so without a stack
            throw new UsageError(`cannot start the registry: ${err instanceof ConnectError ? err.rawMessage : (err as Error).message}`);
          });
          if (ctx.values["json"]) ctx.print(JSON.stringify({ registry: server.url, nats, maxSchemaBytes: server.maxSchemaBytes }));
          else ctx.print(`schema registry  ${server.url}  (NATS ${nats}; Ctrl-C to stop)`);
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
    },
  ],
};
