import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { UsageError } from "../framework/command.js";
import { hasBufWorkspace, modulePaths } from "../project/load-project.js";
import { runPipe, runProcess } from "./process.js";

/** The project folder as it was at a git ref, extracted into a temporary folder. */
export interface GitTree extends Disposable {
  /** The ref as the user wrote it (`main`, `HEAD~1`, `v1.2.0`). */
  readonly ref: string;
  /** The commit it resolved to. */
  readonly commit: string;
  /** The project folder inside the extracted tree; undefined when the folder did not exist at that commit. */
  readonly projectDir: string | undefined;
  /** The project folder relative to the repository root (`.` for the root), for messages. */
  readonly relativeDir: string;
  /** Module folders git ignores (`node_modules/@chronicle/codegen/proto`) that were taken from the working tree. */
  readonly borrowedModules: readonly string[];
  /** Removes the temporary folder. */
  remove(): void;
}

async function git(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await runProcess("git", args, cwd);
    return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() };
  } catch (err) {
    throw new UsageError(`cannot run git: ${(err as Error).message}; --against-git needs git on PATH`);
  }
}

/**
 * Extracts the tree of `ref` of the git repository that holds `dir` into a
 * temporary folder (`git archive REF | tar -x`), without touching the
 * repository, its index or its worktrees.
 *
 * Module folders of the ref's buf.yaml that git ignores, such as
 * `node_modules/@chronicle/codegen/proto` (Chronicle's options as the
 * installed package ships them), are never in a commit: their `.proto` files
 * are copied from the working tree, so both sides build against the same
 * installed options.
 *
 * Throws a {@link UsageError} when `dir` is not in a git repository, the ref
 * does not resolve to a commit, or the folder existed at the ref without a
 * buf.yaml (a mis-pointed project folder must not pass as "new").
 */
export async function extractGitTree(dir: string, ref: string): Promise<GitTree> {
  const root = resolve(dir);
  const top = await git(["rev-parse", "--show-toplevel"], root);
  if (top.code !== 0) throw new UsageError(`--against-git needs a git repository, and ${root} is not in one (${top.err.split("\n")[0]})`);
  const prefix = (await git(["rev-parse", "--show-prefix"], root)).out;
  const commit = await git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], root);
  if (commit.code !== 0 || !commit.out) {
    const shallow = (await git(["rev-parse", "--is-shallow-repository"], root)).out === "true";
    throw new UsageError(
      `git ref ${JSON.stringify(ref)} does not exist in ${top.out}` +
        (shallow ? "; this is a shallow clone: fetch more history (actions/checkout with fetch-depth: 0, or git fetch origin <ref>)" : ""),
    );
  }
  const tmp = mkdtempSync(join(tmpdir(), "chronicle-git-"));
  const remove = () => rmSync(tmp, { recursive: true, force: true });
  try {
    const exists = prefix === "" || (await git(["cat-file", "-e", `${commit.out}:${prefix.replace(/\/$/, "")}`], root)).code === 0;
    const relativeDir = prefix.replace(/\/$/, "") || ".";
    let projectDir: string | undefined;
    const borrowedModules: string[] = [];
    if (exists) {
      const archive = ["-C", top.out, "archive", "--format=tar", commit.out, ...(prefix ? ["--", prefix] : [])];
      const r = await runPipe({ command: "git", args: archive }, { command: "tar", args: ["-x", "-f", "-", "-C", tmp] }, root);
      if (r.code !== 0) throw new UsageError(`cannot extract ${ref} (${commit.out.slice(0, 12)}): ${r.stderr.trim()}`);
      projectDir = join(tmp, prefix);
      if (!hasBufWorkspace(projectDir)) {
        throw new UsageError(
          `${relativeDir} has no buf.yaml at ${ref} (${commit.out.slice(0, 7)}): the folder existed there but was not a buf project; check -C/--dir (it must name the folder with buf.yaml)`,
        );
      }
      for (const module of modulePaths(projectDir)) {
        if (module === "." || existsSync(join(projectDir, module))) continue;
        const local = join(root, module);
        if (!existsSync(local) || (await git(["check-ignore", "-q", "--", module], root)).code !== 0) continue;
        cpSync(local, join(projectDir, module), { recursive: true, dereference: true, filter: (src) => src.endsWith(".proto") || statSync(src).isDirectory() });
        borrowedModules.push(module);
      }
    }
    return { ref, commit: commit.out, projectDir, relativeDir, borrowedModules, remove, [Symbol.dispose]: remove };
  } catch (err) {
    remove();
    throw err;
  }
}
