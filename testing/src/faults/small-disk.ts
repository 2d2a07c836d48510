import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChronicleError, ErrorCode } from "@chronicle/runtime";

/** Space of a {@link SmallDisk}, in bytes. */
export interface DiskUsage {
  total: number;
  used: number;
  available: number;
}

/**
 * A small tmpfs mounted on a folder of its own, for a JetStream store that
 * runs out of space: fill it while a server writes there, free it again.
 * Unmount it (`await using`) when done.
 */
export interface SmallDisk extends AsyncDisposable {
  /** The mount point. */
  readonly dir: string;
  /** Size of the file system, in bytes. */
  readonly sizeBytes: number;
  /** Writes a filler file until at most `leaveBytes` (default 0) are left. */
  fill(leaveBytes?: number): void;
  /** Removes what {@link fill} wrote. */
  free(): void;
  usage(): DiskUsage;
  /** Unmounts the file system and removes the mount point. */
  unmount(): Promise<void>;
}

let support: { ok: true } | { ok: false; reason: string } | undefined;

/**
 * Whether this process can mount a tmpfs (tried once, with a 1 MiB mount),
 * and if not, why, in one line that says how to enable it.
 */
export function smallDiskSupport(): { ok: true } | { ok: false; reason: string } {
  if (support) return support;
  if (process.platform !== "linux") support = { ok: false, reason: "a small tmpfs disk needs Linux" };
  else if (process.getuid?.() !== 0) support = { ok: false, reason: "mounting a small tmpfs disk needs root: run the tests as root (as CI does)" };
  else {
    const probe = mkdtempSync(join(tmpdir(), "chronicle-disk-probe-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "pipe" });
      execFileSync("umount", [probe], { stdio: "pipe" });
      support = { ok: true };
    } catch (err) {
      const why = String((err as { stderr?: Buffer }).stderr ?? err)
        .trim()
        .split("\n")[0];
      support = { ok: false, reason: `cannot mount a tmpfs here (${why}): run the tests as root outside a restricted container (as CI does)` };
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  }
  return support;
}

const FILLER = ".chronicle-filler";

/**
 * Mounts a tmpfs of `sizeBytes` (rounded up to whole 4 KiB pages) on a new
 * folder under the system's temporary folder (or on `dir`). Needs root on
 * Linux; check {@link smallDiskSupport} first to skip with its reason.
 *
 * @example
 * await using disk = mountSmallDisk({ sizeBytes: 16 << 20 });
 * await using server = await startLocalServer({ storeDir: disk.dir });
 * disk.fill(); // the next writes fail with ENOSPC
 */
export function mountSmallDisk(options: { sizeBytes: number; dir?: string }): SmallDisk {
  const support = smallDiskSupport();
  if (!support.ok) throw new ChronicleError(ErrorCode.Unavailable, support.reason);
  if (!Number.isInteger(options.sizeBytes) || options.sizeBytes < 1 << 20) {
    throw new ChronicleError(ErrorCode.InvalidArgument, `sizeBytes must be an integer of at least 1 MiB, got ${options.sizeBytes}`);
  }
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "chronicle-disk-"));
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${options.sizeBytes},mode=0755`, "tmpfs", dir], { stdio: "pipe" });
  let mounted = true;
  const disk: SmallDisk = {
    dir,
    sizeBytes: options.sizeBytes,
    fill(leaveBytes = 0) {
      const fd = openSync(join(dir, FILLER), "a");
      try {
        const chunk = Buffer.alloc(64 * 1024);
        for (;;) {
          const left = disk.usage().available - leaveBytes;
          if (left <= 0) break;
          writeSync(fd, chunk, 0, Math.min(chunk.length, left));
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(join(dir, FILLER), { force: true });
    },
    usage() {
      const s = statfsSync(dir);
      return { total: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize };
    },
    async unmount() {
      if (!mounted) return;
      // a server that just exited may still hold files for a moment
      for (let attempt = 0; ; attempt++) {
        try {
          execFileSync("umount", [dir], { stdio: "pipe" });
          break;
        } catch (err) {
          if (attempt >= 20) throw new ChronicleError(ErrorCode.Internal, `cannot unmount ${dir}: ${String(err)}`, { cause: err });
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
    async [Symbol.asyncDispose]() {
      await disk.unmount();
    },
  };
  return disk;
}
