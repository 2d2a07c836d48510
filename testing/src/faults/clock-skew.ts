import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";

/**
 * A wall clock, off by an offset that can change while processes use it,
 * for child processes started with {@link SkewedClock.env} in their
 * environment. It moves only `Date.now()`/`gettimeofday` and
 * `CLOCK_REALTIME`; the monotonic clock (Node's timers, `performance.now()`)
 * stays true, as on a machine whose clock NTP steps.
 *
 * Works for programs that read the time through the C library (Node.js
 * does); not for Go programs such as nats-server, which read the clock
 * through the vDSO without the C library.
 */
export interface SkewedClock extends Disposable {
  /** Environment variables that put a child process on this clock. */
  readonly env: Record<string, string>;
  /** The current offset, ms (negative: behind). */
  readonly offsetMs: number;
  /**
   * Moves the clock to `offsetMs` from the true time. Processes on it see the
   * step within a second (libfaketime reads the offset at most once a second).
   */
  set(offsetMs: number): void;
  /** Removes the offset file; processes still on the clock keep the last offset. */
  dispose(): void;
}

/** Paths where Debian and Ubuntu put libfaketime (package `libfaketime`). */
const LIBFAKETIME = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
  "/usr/local/lib/faketime/libfaketime.so.1",
];

let support: { ok: true; library: string } | { ok: false; reason: string } | undefined;

const findLibrary = () => LIBFAKETIME.find((p) => existsSync(p));

/**
 * Finds libfaketime; when it is missing and this process runs as root on a
 * Debian-family system (as CI does), installs Debian's `libfaketime`
 * package first. Otherwise says, in one line, why clock skew cannot be
 * tested here and how to enable it.
 */
export function clockSkewSupport(): { ok: true; library: string } | { ok: false; reason: string } {
  if (support) return support;
  let library = findLibrary();
  if (!library && process.platform === "linux" && process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    const install = () =>
      execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "libfaketime"], {
        stdio: "pipe",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
        timeout: 300_000,
      });
    try {
      install();
    } catch {
      try {
        execFileSync("apt-get", ["update"], { stdio: "pipe", timeout: 300_000 });
        install();
      } catch {
        // reported below
      }
    }
    library = findLibrary();
  }
  support = library
    ? { ok: true, library }
    : { ok: false, reason: "clock skew needs libfaketime: apt-get install libfaketime (the tests install it themselves when run as root)" };
  return support;
}

/**
 * A {@link SkewedClock} starting `offsetMs` from the true time. Throws
 * `unavailable` when libfaketime is not there (check
 * {@link clockSkewSupport} first to skip with its reason).
 *
 * @example
 * using clock = skewedClock(-24 * 3600_000); // a day behind
 * spawn(process.execPath, ["producer.js"], { env: { ...process.env, ...clock.env } });
 * clock.set(-3600_000); // NTP steps it forward 23 hours
 */
export function skewedClock(offsetMs: number): SkewedClock {
  const found = clockSkewSupport();
  if (!found.ok) throw new ChronicleError(ErrorCode.Unavailable, found.reason);
  const dir = mkdtempSync(join(tmpdir(), "chronicle-clock-"));
  const file = join(dir, "offset");
  let current = offsetMs;
  // libfaketime's relative form: a signed number of seconds
  const write = (ms: number) => writeFileSync(file, `${ms >= 0 ? "+" : "-"}${(Math.abs(ms) / 1000).toFixed(3)}\n`);
  write(offsetMs);
  const clock: SkewedClock = {
    env: {
      LD_PRELOAD: found.library,
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_CACHE_DURATION: "1",
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    },
    get offsetMs() {
      return current;
    },
    set(ms) {
      current = ms;
      write(ms);
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
    [Symbol.dispose]() {
      clock.dispose();
    },
  };
  return clock;
}
