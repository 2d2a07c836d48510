/** What a benchmark receives. */
export interface BenchContext {
  /** Small counts, seconds not minutes: a smoke test, figures not meaningful. */
  quick: boolean;
  /** Progress output (stderr). */
  log(line: string): void;
}

/**
 * One figure, printed beside the raw baseline measured in the same run. The
 * ratio is value/baseline (or baseline/value when lower is better), so above
 * 1 always means "better than the baseline".
 */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  lowerIsBetter?: boolean;
  /** A target or remark shown beside the figure ("target >= 3x"). */
  note?: string;
}

/** A named benchmark: `bench/src/benchmarks/<name>.bench.ts` exports one as default. */
export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Measurement[]>;
}

/** The ratio of a measurement to its baseline, oriented so that > 1 is better. */
export function ratioOf(m: Measurement): number | undefined {
  if (!m.baseline || m.baseline.value === 0 || m.value === 0) return undefined;
  return m.lowerIsBetter ? m.baseline.value / m.value : m.value / m.baseline.value;
}

/** Events per second of `count` events done in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

/** The p-th percentile (0-100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `fn` and returns its duration in milliseconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
