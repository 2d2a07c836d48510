import { ConnectError } from "@connectrpc/connect";
import { startRegistryServer } from "@chronicle/registry";
import { ExitCode, UsageError } from "../../framework/command.js";
import { connectFromCli, natsConnectOptionsOf, redactUrl } from "../../framework/nats-connection.js";
import { readTokens } from "../../framework/read-tokens.js";
import type { RegistryServeContext } from "./spec.js";

/** Runs `chronicle registry serve` until Ctrl-C. */
export async function runRegistryServe(ctx: RegistryServeContext): Promise<number> {
  const v = ctx.values;
  const cert = v["https-cert"];
  const key = v["https-key"];
  if ((cert === undefined) !== (key === undefined)) throw new UsageError("--https-cert and --https-key go together");
  const tokens = readTokens("registry", v.tokens, process.env["CHRONICLE_REGISTRY_TOKENS"]);
  const anonymousRead = v["anonymous-read"];
  if (tokens.length === 0) ctx.warn(`registry: no tokens configured: writes are refused${anonymousRead ? "" : " and so are reads (pass --anonymous-read)"}`);
  const nats = redactUrl(natsConnectOptionsOf(v, ctx.cwd, "chronicle-registry").servers.toString());
  const conn = await connectFromCli(ctx, "chronicle-registry");
  try {
    const server = await startRegistryServer({
      connection: conn.nc,
      port: v.port,
      host: v.host,
      bucket: v.bucket,
      replicas: v.replicas,
      maxSchemaBytes: v["max-schema-bytes"],
      auth: { tokens, anonymousRead },
      readOnly: v["read-only"],
      ...(cert && key ? { tls: { certFile: cert, keyFile: key } } : {}),
      log: (l) => ctx.warn(l),
    }).catch((err: unknown) => {
      // a taken port, unreadable certificate files, no JetStream: say so without a stack
      throw new UsageError(`cannot start the registry: ${err instanceof ConnectError ? err.rawMessage : (err as Error).message}`);
    });
    if (v.json) ctx.print(JSON.stringify({ registry: server.url, nats, maxSchemaBytes: server.maxSchemaBytes }));
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
}
