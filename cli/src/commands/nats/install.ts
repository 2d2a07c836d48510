import { ensureNatsServer } from "@chronicle/testing";
import { ExitCode } from "../../framework/command.js";
import type { NatsInstallContext } from "./spec.js";

/** Runs `chronicle nats install`. */
export async function runNatsInstall(ctx: NatsInstallContext): Promise<number> {
  const bin = await ensureNatsServer({ log: (l) => ctx.warn(l) });
  ctx.print(ctx.values.json ? JSON.stringify(bin) : `nats-server ${bin.version} at ${bin.path} (${bin.source})`);
  return ExitCode.Ok;
}
