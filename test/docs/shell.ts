// What the tests that run documentation need: the sh blocks of a page by
// their marker, and commands run as a user runs them in a terminal (through
// sh, in a folder, long-running ones in their own process group and stopped
// with Ctrl-C). Internal to the tests.
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";

/** The environment of every command: this process's, a git identity (a CI machine may have none), and npm kept quiet. */
export const shellEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "CI",
  GIT_AUTHOR_EMAIL: "ci@example.com",
  GIT_COMMITTER_NAME: "CI",
  GIT_COMMITTER_EMAIL: "ci@example.com",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

const ANSI = /\u001b\[[0-9;]*m/g;

/** The lines of the sh block after `<!-- MARKER -->` in `markdown`, trailing comments removed. */
export function shBlock(markdown: string, marker: string): string[] {
  const m = new RegExp(`<!-- ${escape(marker)} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``).exec(markdown);
  if (!m) throw new Error(`no sh block marked <!-- ${marker} -->`);
  return m[1]!.split("\n").map((l) => l.replace(/\s+#.*$/, ""));
}

/** The text of the fenced block (any language) after `<!-- MARKER -->` in `markdown`. */
export function markedBlock(markdown: string, marker: string): string {
  const m = new RegExp(`<!-- ${escape(marker)} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(markdown);
  if (!m) throw new Error(`no block marked <!-- ${marker} -->`);
  return m[1]!;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Output of a finished command, colours removed. */
export interface ShellResult {
  status: number | null;
  out: string;
  err: string;
}

/** Runs one command line through sh in `cwd` and waits for it (at most 20 minutes: builds and type checks on a loaded 2-core machine). */
export function sh(line: string, cwd: string, env: NodeJS.ProcessEnv = {}): ShellResult {
  const r = spawnSync("sh", ["-c", line], { cwd, env: { ...shellEnv, ...env }, encoding: "utf8", timeout: 1_200_000 });
  return { status: r.status, out: r.stdout.replace(ANSI, ""), err: r.stderr.replace(ANSI, "") };
}

/** A command started in the background, in a process group of its own as a terminal would run it. */
export interface Terminal {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  out(): string;
  err(): string;
  /** Ctrl-C: SIGINT to the process group; resolves on exit (SIGKILL after 20 s). */
  interrupt(): Promise<void>;
}

/** Starts `line` through sh in `cwd`, collecting its output. Interrupt it (or every one, with {@link interruptAll}) when done. */
export function startTerminal(line: string, cwd: string, env: NodeJS.ProcessEnv = {}): Terminal {
  const child = spawn("sh", ["-c", line], { cwd, env: { ...shellEnv, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const terminal: Terminal = {
    child,
    out: () => out.replace(ANSI, ""),
    err: () => err.replace(ANSI, ""),
    async interrupt() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, s);
        } catch {
          // the group is gone already
        }
      };
      signal("SIGINT");
      const timer = setTimeout(() => signal("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
  started.push(terminal);
  return terminal;
}

const started: Terminal[] = [];

/** Interrupts every terminal still running (for afterAll). */
export async function interruptAll(): Promise<void> {
  for (const t of started.splice(0)) await t.interrupt();
}

/** Polls `check` every 100 ms; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
