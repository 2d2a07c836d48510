import { spawn, type ChildProcess } from "node:child_process";

// The reaper is a tiny detached process that reads "+PID" / "-PID" lines on
// its stdin and SIGKILLs every PID still listed when that pipe closes. The
// pipe closes when this process exits for any reason, SIGKILL included, so no
// server outlives the process that started it.
const REAPER_SOURCE = `
const pids = new Set();
let buf = "";
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});
const reap = () => { for (const pid of pids) { try { process.kill(pid, "SIGKILL"); } catch {} } process.exit(0); };
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (line[0] === "+") pids.add(pid); else pids.delete(pid);
  }
});
process.stdin.on("end", reap);
process.stdin.on("error", reap);
`;

let reaper: ChildProcess | undefined;

function getReaper(): ChildProcess {
  if (reaper?.stdin?.writable) return reaper;
  const child = spawn(process.execPath, ["-e", REAPER_SOURCE], { stdio: ["pipe", "ignore", "ignore"], detached: true });
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  child.stdin?.on("error", () => {});
  reaper = child;
  return child;
}

/** Registers a child PID to be killed if this process dies without stopping it. @private */
export function guardChild(pid: number): void {
  getReaper().stdin?.write(`+${pid}\n`);
}

/** Removes a PID registered with {@link guardChild} once it has exited. @private */
export function unguardChild(pid: number): void {
  if (reaper?.stdin?.writable) reaper.stdin.write(`-${pid}\n`);
}
