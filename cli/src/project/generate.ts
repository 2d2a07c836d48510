import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";
import { runBuf } from "./buf.js";
import { requireProjectFolder } from "./load-project.js";
import { pluginPath } from "./plugin-path.js";

/**
 * Runs `buf generate` in a project folder with the buf CLI from npm and the
 * protoc plugins of Chronicle's packages on PATH. Throws a `ChronicleError`
 * (`invalid_argument`) with buf's and the plugins' messages when the protos
 * do not compile or an option is invalid; nothing is written then.
 */
export async function generateProject(dir: string, options: { template?: string } = {}): Promise<void> {
  const root = resolve(dir);
  requireProjectFolder(root);
  const template = options.template ?? "buf.gen.yaml";
  if (!existsSync(join(root, template))) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `${join(root, template)} does not exist; run "chronicle init" in an empty folder, or pass --template`, {
      context: { path: root },
    });
  }
  const plugins = pluginPath();
  try {
    const r = await runBuf(["generate", "--template", template], { cwd: root, env: plugins.env });
    if (r.code !== 0) {
      const detail = r.stderr
        .trim()
        .split("\n")
        .map((l) => l.replace(/^Failure: plugin chronicle: /, "").replace(/^Failure: /, ""))
        .join("\n");
      throw new ChronicleError(ErrorCode.InvalidArgument, `generation failed, nothing was written:\n${detail || `buf exited with code ${r.code}`}`, {
        context: { path: root },
      });
    }
  } finally {
    plugins.dispose();
  }
}
