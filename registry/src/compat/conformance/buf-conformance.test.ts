// Agreement with `buf breaking` (the oracle), for the shared corpus
// (../shared/conformance/buf-breaking) and for this package's own cases
// (./cases). Buf's JSON output names a file, line and column but not the
// element, so a violation is matched on (rule ID, file, line, column); the
// engine computes locations the way Buf does (e.g. a deleted field at its
// message in the newer schema), so equal keys mean the same element. The
// comparison is of multisets: the same count of each key on both sides.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { checkModule } from "../check-module.js";
import { compareImages } from "../compare-images.js";
import type { RuleCategory } from "../types.js";
import { findCorpus, loadOracle, type OracleCase } from "./buf-oracle.js";

interface KnownDifference {
  corpus: "shared" | "own";
  case: string;
  category: RuleCategory;
  /** "+" reported only by the engine, "-" only by buf. */
  side: "+" | "-";
  key: string;
  reason: string;
}

const known = JSON.parse(readFileSync(new URL("./known-differences.json", import.meta.url), "utf8")) as KnownDifference[];
const categories: RuleCategory[] = ["WIRE", "WIRE_JSON"];

function count(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Differences between the engine and buf for one case and category, as "+key" / "-key". */
function differences(c: OracleCase, category: RuleCategory): string[] {
  const ours = count(
    compareImages(c.previous, c.current, { category }).map((v) => `${v.rule} ${v.location?.file ?? "?"}:${v.location?.line ?? 0}:${v.location?.column ?? 0}`),
  );
  const theirs = count(c.buf[category].map((a) => `${a.type} ${a.path ?? "?"}:${a.start_line ?? 0}:${a.start_column ?? 0}`));
  const out: string[] = [];
  for (const [k, n] of ours) for (let i = theirs.get(k) ?? 0; i < n; i++) out.push(`+${k}`);
  for (const [k, n] of theirs) for (let i = ours.get(k) ?? 0; i < n; i++) out.push(`-${k}`);
  return out.sort();
}

function suite(corpusName: "shared" | "own", dir: string | undefined, expectedCases: number | undefined): void {
  describe.skipIf(dir === undefined)(`agreement with buf breaking: ${corpusName} corpus`, () => {
    let cases: OracleCase[] = [];
    beforeAll(async () => {
      cases = await loadOracle(dir ?? "", 2);
    }, 240_000);

    it("has the expected cases", () => {
      if (expectedCases !== undefined) expect(cases.length).toBe(expectedCases);
      expect(cases.length).toBeGreaterThan(0);
    });

    for (const category of categories) {
      it(`reports what buf reports under ${category}, except known differences`, () => {
        const unexpected: string[] = [];
        const stillKnown = new Set<string>();
        let buf = 0;
        for (const c of cases) {
          buf += c.buf[category].length;
          for (const d of differences(c, category)) {
            const k = known.find((x) => x.corpus === corpusName && x.case === c.name && x.category === category && `${x.side}${x.key}` === d);
            if (k === undefined) unexpected.push(`${c.name}: ${d}`);
            else stillKnown.add(JSON.stringify(k));
          }
        }
        expect(unexpected).toEqual([]);
        const stale = known.filter((k) => k.corpus === corpusName && k.category === category && !stillKnown.has(JSON.stringify(k)));
        expect(stale, "known-differences.json lists differences that no longer occur").toEqual([]);
        expect(buf, "the corpus should exercise the category").toBeGreaterThan(0);
      });

      it(`checkModule under BACKWARD reports what compareImages reports under ${category}, and FULL_TRANSITIVE at least that`, () => {
        const keys = (vs: { rule: string; path: string; location?: { file: string; line: number; column: number } }[]) =>
          vs.map((v) => `${v.rule} ${v.path} ${v.location?.file ?? "?"}:${v.location?.line ?? 0}:${v.location?.column ?? 0}`);
        for (const c of cases) {
          const images = keys(compareImages(c.previous, c.current, { category }));
          expect(keys(checkModule({ previous: c.previous, current: c.current, mode: "BACKWARD", category }).violations), c.name).toEqual(images);
          const full = keys(checkModule({ previous: c.previous, current: c.current, mode: "FULL_TRANSITIVE", category }).violations);
          expect(full, c.name).toEqual(expect.arrayContaining(images));
        }
      });
    }
  });
}

const shared = findCorpus();
if (shared === undefined) {
  console.warn("buf conformance: ../shared/conformance/buf-breaking is absent (a user's clone); skipping the shared corpus");
}
suite("shared", shared, 54);
suite("own", fileURLToPath(new URL("./cases", import.meta.url)), undefined);
