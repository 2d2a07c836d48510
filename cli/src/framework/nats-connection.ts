import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { connect, isChronicleError, type ChronicleConnection, type ConnectOptions } from "@chronicle/runtime";
import { UsageError, type OptionValues } from "./command.js";
import { NATS_ENV, type natsConnectionOptions } from "./common-options.js";

/** The values of the NATS options of a command line. */
export type NatsOptionValues = OptionValues<typeof natsConnectionOptions>;

function value(values: NatsOptionValues, option: keyof NatsOptionValues, env: NodeJS.ProcessEnv): string | undefined {
  const v = values[option];
  if (v !== undefined && v !== "") return v;
  const e = env[NATS_ENV[option]];
  return e !== undefined && e !== "" ? e : undefined;
}

/** Hides the user information of URLs (`nats://user:secret@host` -> `nats://***@host`). */
export function redactUrl(url: string): string {
  return url.replace(/(\w+:\/\/)[^@/\s]*@/g, "$1***@");
}

/**
 * Turns the NATS options of a command line (and their environment
 * variables) into runtime {@link ConnectOptions}. Throws a `UsageError` for
 * contradictory or unreadable options; messages never contain a password,
 * token or seed.
 */
export function natsConnectOptionsOf(values: NatsOptionValues, cwd: string, name: string, env: NodeJS.ProcessEnv = process.env): ConnectOptions {
  const servers = (value(values, "servers", env) ?? "nats://127.0.0.1:4222")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const options: ConnectOptions = { servers, name };
  const file = (option: keyof NatsOptionValues) => {
    const path = value(values, option, env);
    return path === undefined ? undefined : resolve(cwd, path);
  };
  const user = value(values, "user", env);
  const password = value(values, "password", env);
  const token = value(values, "token", env);
  const creds = file("creds");
  const nkey = file("nkey");
  if (password !== undefined && user === undefined) throw new UsageError("--password needs --user (or $NATS_USER)");
  const methods = [user !== undefined, token !== undefined, creds !== undefined, nkey !== undefined].filter(Boolean).length;
  if (methods > 1) throw new UsageError("pass one of --user/--password, --token, --creds or --nkey (or their variables), not several");
  if (user !== undefined) {
    options.user = user;
    if (password !== undefined) options.pass = password;
  }
  if (token !== undefined) options.token = token;
  if (creds !== undefined) {
    try {
      readFileSync(creds);
    } catch (err) {
      throw new UsageError(`cannot read the credentials file ${creds}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    options.credsFile = creds;
  }
  if (nkey !== undefined) {
    let seed: string;
    try {
      seed = readFileSync(nkey, "utf8").trim();
    } catch (err) {
      throw new UsageError(`cannot read the NKey seed file ${nkey}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
    }
    if (!/^S[A-Z2-7]{50,}$/.test(seed)) throw new UsageError(`${nkey} does not hold an NKey seed (a line starting with S)`);
    options.nkeySeed = seed;
  }
  const caFile = file("tls-ca");
  const certFile = file("tls-cert");
  const keyFile = file("tls-key");
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
  if (caFile !== undefined || certFile !== undefined) {
    options.tls = { ...(caFile !== undefined ? { caFile } : {}), ...(certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : {}) };
  }
  return options;
}

/**
 * Connects to NATS with the command's NATS options (see
 * `natsConnectionOptions`). A refused or failed connection becomes a
 * `UsageError` naming the servers with their user information hidden, and
 * without any secret.
 */
export async function connectFromCli(
  ctx: { values: NatsOptionValues; cwd: string },
  name = "chronicle-cli",
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChronicleConnection> {
  const options = natsConnectOptionsOf(ctx.values, ctx.cwd, name, env);
  try {
    return await connect(options);
  } catch (err) {
    let message = redactUrl(err instanceof Error ? err.message : String(err));
    for (const secret of [options.pass, options.token, options.nkeySeed]) if (secret) message = message.split(secret).join("***");
    const kind = isChronicleError(err) && err.code === "permission_denied" ? "NATS refused the credentials" : "cannot connect to NATS";
    throw new UsageError(`${kind}: ${message}`);
  }
}
