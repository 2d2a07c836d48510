import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ensureWebBuilt, startConsoleServer, type ConsoleServer, type ProtoCompiler } from "@chronicle/console";
import type { AuthOptions } from "@chronicle/registry";
import type { ChronicleConnection } from "@chronicle/runtime";
import { UsageError } from "../../framework/command.js";
import { buildImage } from "../../project/buf.js";
import { cliVersion } from "../../version.js";

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
    const built = await buildImage(dir);
    if (built.code !== 0)
      throw new ConnectError(`the .proto files do not compile:\n${built.stderr.trim().split(dir).join("").replace(/src\//g, "")}`, Code.InvalidArgument);
    return fromBinary(FileDescriptorSetSchema, built.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

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
