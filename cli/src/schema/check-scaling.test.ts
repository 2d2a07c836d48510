// `chronicle schema check --all-messages` costs time in proportion to the
// module: four times the messages take less than 6 times the CPU time, a
// growth exponent under 1.3 (a check that copied or re-indexed a file per
// message grew with the square of the messages per file, 16 times for four
// times the messages: 100 messages 7 s, 200 messages 25 s). Four times
// rather than twice: at twice, the noise of a busy machine (garbage
// collection, a JIT that is not yet warm) was as large as the margin, and a
// CI run measured 2.77x for a check that takes 2.2x on a quiet machine.
// Measured as CPU time of this process, after a garbage collection, the
// least of five runs taken in turns, so that other work on a shared machine
// counts as little as it can.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { runBuf } from "../project/buf.js";
import { checkAgainstSide } from "./check.js";
import { formatJson, formatText } from "./format.js";
import { imageFileSide } from "./sides.js";
import { writeGeneratedModule, type GeneratedModuleOptions } from "./testing-module.js";

const work = mkdtempSync(join(tmpdir(), "chronicle-scaling-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Both versions of a generated module as images written by buf. */
async function images(name: string, shape: Omit<GeneratedModuleOptions, "version">): Promise<{ previous: string; current: string }> {
  const dir = join(work, name.replaceAll(" ", "-"));
  const out = { previous: `${dir}-v1.binpb`, current: `${dir}-v2.binpb` };
  for (const [version, image] of [
    [1, out.previous],
    [2, out.current],
  ] as const) {
    writeGeneratedModule(dir, { ...shape, version });
    const built = await runBuf(["build", "-o", image], { cwd: dir });
    if (built.code !== 0) throw new Error(`buf build: ${built.stderr}`);
  }
  return out;
}

// Garbage left by an earlier run must not be collected inside a measured one.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** CPU milliseconds of reading both images and checking them, as the command does after buf build. */
function checkCpuMs(pair: { previous: string; current: string }): number {
  collectGarbage();
  const start = process.cpuUsage();
  const current = imageFileSide(work, pair.current);
  const earlier = imageFileSide(work, pair.previous);
  const report = checkAgainstSide(current, earlier, { mode: "FULL_TRANSITIVE", rules: "WIRE_JSON" }, { allMessages: true });
  formatText(report, work, "message");
  formatJson(report, work);
  const used = process.cpuUsage(start);
  expect(report.compatible).toBe(false);
  return (used.user + used.system) / 1000;
}

/** The least CPU time of each pair over `rounds` runs, taken in turns so that a busy spell slows both alike. */
function leastCpuMs(pairs: { previous: string; current: string }[], rounds: number): number[] {
  const least = pairs.map(() => Infinity);
  for (let round = 0; round < rounds; round++) pairs.forEach((pair, i) => (least[i] = Math.min(least[i]!, checkCpuMs(pair))));
  return least;
}

describe("the cost of chronicle schema check --all-messages", () => {
  it.each([
    { name: "one file", small: { files: 1, perFile: 1000 }, large: { files: 1, perFile: 4000 } },
    { name: "ten files with cross-file references", small: { files: 10, perFile: 100 }, large: { files: 10, perFile: 400 } },
  ])(
    "grows linearly with the messages: $name",
    async ({ name, small, large }) => {
      const smallPair = await images(`${name}-small`, small);
      const largePair = await images(`${name}-large`, large);
      checkCpuMs(smallPair); // warm up the JIT first
      const [smallMs = 0, largeMs = 0] = leastCpuMs([smallPair, largePair], 5);
      console.log(
        `${name}: ${small.files * small.perFile} messages ${smallMs.toFixed(0)} ms CPU, ${large.files * large.perFile} messages ${largeMs.toFixed(0)} ms CPU (${(largeMs / smallMs).toFixed(2)}x)`,
      );
      expect(largeMs / smallMs).toBeLessThan(6);
    },
    240_000,
  );
});
