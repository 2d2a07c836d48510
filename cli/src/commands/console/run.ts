import { ExitCode, UsageError } from "../../framework/command.js";
import { REGISTRY_TOKEN_ENV } from "../../framework/common-options.js";
import { connectFromCli, natsConnectOptionsOf, redactUrl } from "../../framework/nats-connection.js";
import { readTokens } from "../../framework/read-tokens.js";
import { CONSOLE_TOKENS_ENV, type ConsoleContext } from "./spec.js";
import { startConsoleFromCli } from "./start-console.js";

/** Runs `chronicle console` until Ctrl-C. */
export async function runConsole(ctx: ConsoleContext): Promise<number> {
  const v = ctx.values;
  const cert = v["https-cert"];
  const key = v["https-key"];
  if ((cert === undefined) !== (key === undefined)) throw new UsageError("--https-cert and --https-key go together");
  const registryUrl = v.registry ?? process.env["CHRONICLE_REGISTRY_URL"];
  if (registryUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(registryUrl))
    throw new UsageError(`--registry must be an http:// or https:// URL, got ${JSON.stringify(registryUrl)}`);
  const tokens = readTokens("console", v.tokens, process.env[CONSOLE_TOKENS_ENV]);
  const anonymousRead = v["anonymous-read"];
  if (tokens.length === 0 && !anonymousRead)
    throw new UsageError(`no console tokens: pass --tokens FILE or set $${CONSOLE_TOKENS_ENV} (or --anonymous-read for a read-only console)`);
  const natsServers = redactUrl(natsConnectOptionsOf(v, ctx.cwd, "chronicle-console").servers.toString());
  const conn = await connectFromCli(ctx, "chronicle-console");
  try {
    const server = await startConsoleFromCli({
      conn,
      natsServers,
      registryUrl,
      registryToken: v["registry-token"] ?? process.env[REGISTRY_TOKEN_ENV],
      auth: { tokens, anonymousRead },
      port: v.port,
      host: v.host,
      ...(v["nats-monitor"] ? { natsMonitorUrl: v["nats-monitor"] } : {}),
      ...(cert && key ? { tls: { certFile: cert, keyFile: key } } : {}),
      log: (l) => ctx.warn(l),
    });
    if (v.json) ctx.print(JSON.stringify({ console: server.url, nats: natsServers, registry: registryUrl ?? null }));
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
}
