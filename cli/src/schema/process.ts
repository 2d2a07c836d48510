import { spawn } from "node:child_process";

/** Output of a finished child process. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command args` in `cwd` and collects its output; rejects only when it cannot start. @private */
export function runProcess(command: string, args: readonly string[], cwd: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * Runs `from` and pipes its stdout into `to` (`git archive ... | tar -x`);
 * resolves with the first failure, or code 0 when both succeed. @private
 */
export function runPipe(
  from: { command: string; args: readonly string[] },
  to: { command: string; args: readonly string[] },
  cwd: string,
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const a = spawn(from.command, from.args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const b = spawn(to.command, to.args, { cwd, stdio: ["pipe", "ignore", "pipe"] });
    a.stdout.pipe(b.stdin);
    let errA = "";
    let errB = "";
    a.stderr.setEncoding("utf8").on("data", (s: string) => (errA += s));
    b.stderr.setEncoding("utf8").on("data", (s: string) => (errB += s));
    a.on("error", reject);
    b.on("error", reject);
    // a reader that quits early must not crash the writer with EPIPE
    b.stdin.on("error", () => {});
    let codeA: number | undefined;
    a.on("close", (code) => (codeA = code ?? 1));
    b.on("close", (code) => {
      const finish = () => {
        if (codeA !== 0) resolve({ code: codeA ?? 1, stdout: "", stderr: errA });
        else resolve({ code: code ?? 1, stdout: "", stderr: errB });
      };
      if (codeA === undefined) a.once("close", finish);
      else finish();
    });
  });
}
