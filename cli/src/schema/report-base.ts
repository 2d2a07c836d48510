import type { OutputFormat } from "./format.js";
import { runProcess } from "./process.js";

/**
 * The folder report paths are relative to: the working directory for text
 * and JSON; for GitHub annotations the repository root (`$GITHUB_WORKSPACE`,
 * else the git top level of the project), since GitHub resolves `file=` from there.
 */
export async function reportBase(cwd: string, projectDir: string, format: OutputFormat): Promise<string> {
  if (format !== "github") return cwd;
  if (process.env["GITHUB_WORKSPACE"]) return process.env["GITHUB_WORKSPACE"];
  try {
    const r = await runProcess("git", ["rev-parse", "--show-toplevel"], projectDir);
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : cwd;
  } catch {
    return cwd;
  }
}
