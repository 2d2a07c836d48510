// `npm run bench [-- NAME...] [--quick] [--no-write]`: runs the benchmarks in
// bench/src/benchmarks, prints each figure beside its raw baseline, writes
// bench/results/latest.json and (unless --quick or --no-write) bench/RESULTS.md:
// the whole file after a full run; after a run of some benchmarks, only their
// sections, each saying the date and command that made it.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { markdownTable, textLines } from "./format.js";
import type { Benchmark, Measurement } from "./harness.js";

const { values, positionals } = parseArgs({
  options: { quick: { type: "boolean", default: false }, "no-write": { type: "boolean", default: false }, list: { type: "boolean", default: false } },
  allowPositionals: true,
});

const dir = new URL("./benchmarks/", import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .sort();
const all: Benchmark[] = [];
for (const f of files) all.push(((await import(new URL(f, dir).href)) as { default: Benchmark }).default);

if (values.list) {
  for (const b of all) console.log(`${b.name.padEnd(16)} ${b.description}`);
  process.exit(0);
}
const unknown = positionals.filter((p) => !all.some((b) => b.name === p));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${all.map((b) => b.name).join(", ")}`);
  process.exit(2);
}
const selected = positionals.length ? all.filter((b) => positionals.includes(b.name)) : all;
const results: { name: string; description: string; measurements: Measurement[]; error?: string }[] = [];
let failed = 0;
for (const b of selected) {
  console.log(`\n${b.name}: ${b.description}${values.quick ? " (quick)" : ""}`);
  try {
    const measurements = await b.run({ quick: values.quick, log: (l) => console.error(`  · ${l}`) });
    for (const line of textLines(measurements)) console.log(line);
    results.push({ name: b.name, description: b.description, measurements });
  } catch (err) {
    failed++;
    console.error(`  FAILED: ${(err as Error).stack ?? String(err)}`);
    results.push({ name: b.name, description: b.description, measurements: [], error: String(err) });
  }
}

const command = `npm run bench${values.quick ? " -- --quick" : ""}${positionals.length ? ` ${positionals.join(" ")}` : ""}`;
const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", quick: values.quick, command };
const outDir = new URL("../results/", import.meta.url);
mkdirSync(outDir, { recursive: true });
writeFileSync(new URL("latest.json", outDir), `${JSON.stringify({ ...meta, results }, null, 2)}\n`);
const resultsFile = new URL("../RESULTS.md", import.meta.url);
/** One benchmark's section of RESULTS.md: its description, the run that made it, its table. */
const section = (r: (typeof results)[number]): string[] => [
  `## ${r.name}`,
  "",
  r.description,
  "",
  `Measured ${meta.date.slice(0, 10)} with \`${command}\`.`,
  "",
  r.error ? `FAILED: ${r.error}` : markdownTable(r.measurements),
  "",
];
if (!values.quick && !values["no-write"] && positionals.length === 0) {
  const md = [
    "# Benchmark results",
    "",
    `Made by \`${command}\` on ${meta.date.slice(0, 10)}: Node ${meta.node}, ${meta.cpus} cores (${meta.cpu}), unless a section names another run.`,
    "Each figure stands beside a raw baseline measured in the same run on the same server; the ratio is oriented so that above 1 is better than the baseline.",
    "Absolute numbers on this shared machine are noise; the ratios are the result.",
    process.env.CHRONICLE_BENCH_FROM_SOURCE
      ? "Chronicle's packages ran from their TypeScript sources through tsx (`--from-source`)."
      : "Chronicle's packages ran from their compiled `dist/` (built by the same command), as an application runs them.",
    "",
    ...results.flatMap(section),
  ].join("\n");
  writeFileSync(resultsFile, md);
  console.log("\nwrote bench/RESULTS.md");
} else if (!values.quick && !values["no-write"] && existsSync(resultsFile)) {
  // replace (or append) only the sections of the benchmarks that ran
  let md = readFileSync(resultsFile, "utf8");
  for (const r of results) {
    const start = md.indexOf(`\n## ${r.name}\n`);
    const text = section(r).join("\n");
    if (start < 0) md = `${md.trimEnd()}\n\n${text}`;
    else {
      const next = md.indexOf("\n## ", start + 1);
      md = `${md.slice(0, start + 1)}${text}${next < 0 ? "" : md.slice(next)}`;
    }
  }
  writeFileSync(resultsFile, md);
  console.log(`\nwrote the sections of ${results.map((r) => r.name).join(", ")} in bench/RESULTS.md`);
}
process.exit(failed ? 1 : 0);
