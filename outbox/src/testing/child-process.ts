import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { guardChild, unguardChild } from "@chronicle/testing";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));

/** A crash-test child process (see crash-child.ts). @private */
export interface Child {
  readonly proc: ChildProcess;
  /** Resolves when the child printed `ready`. */
  readonly ready: Promise<void>;
  /** Resolves when the child printed `done`. */
  readonly done: Promise<void>;
  /** Resolves when the process exited. */
  readonly exited: Promise<void>;
  output(): string;
  kill(): Promise<void>;
}

/** Starts crash-child.ts under tsx with the given arguments; it never outlives this process. @private */
export function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", "--conditions=@chronicle/source", CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  if (proc.pid !== undefined) guardChild(proc.pid);
  let out = "";
  let onReady: () => void = () => undefined;
  let onDone: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<void>((r) => (onDone = r));
  const exited = new Promise<void>((resolve) =>
    proc.once("exit", () => {
      if (proc.pid !== undefined) unguardChild(proc.pid);
      resolve();
    }),
  );
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    if (out.includes("ready")) onReady();
    if (out.includes("done")) onDone();
  });
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  return {
    proc,
    ready: Promise.race([ready, exited.then(() => Promise.reject(new Error(`child exited before ready:\n${out}`)))]),
    done,
    exited,
    output: () => out,
    async kill() {
      proc.kill("SIGKILL");
      await exited;
    },
  };
}
