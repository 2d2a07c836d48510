/** The oldest `nats-server` Chronicle runs on (priority groups, per-message TTL). */
export const MIN_NATS_SERVER_VERSION = "2.11.0";

/**
 * Parses the version out of `nats-server --version` output
 * (`nats-server: v2.15.1`) or a bare `2.15.1`. Returns undefined when no
 * version is found.
 */
export function parseServerVersion(text: string): string | undefined {
  return /v?(\d+\.\d+\.\d+)/.exec(text)?.[1];
}

/** Compares two dotted versions numerically: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
