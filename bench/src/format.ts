import { ratioOf, type Measurement } from "./harness.js";

function num(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);
}

/** Renders one benchmark's measurements as a Markdown table. */
export function markdownTable(measurements: readonly Measurement[]): string {
  const rows = ["| figure | value | baseline (same run) | ratio | note |", "|---|---|---|---|---|"];
  for (const m of measurements) {
    const r = ratioOf(m);
    rows.push(
      `| ${m.name} | ${num(m.value)} ${m.unit} | ${m.baseline ? `${m.baseline.name}: ${num(m.baseline.value)} ${m.unit}` : "—"} | ${r === undefined ? "—" : `${r.toFixed(2)}x`} | ${m.note ?? ""} |`,
    );
  }
  return rows.join("\n");
}

/** Renders measurements as aligned text lines for the terminal. */
export function textLines(measurements: readonly Measurement[]): string[] {
  return measurements.map((m) => {
    const r = ratioOf(m);
    const base = m.baseline ? `  vs ${m.baseline.name} ${num(m.baseline.value)} ${m.unit}  = ${r === undefined ? "?" : `${r.toFixed(2)}x`}` : "";
    return `  ${m.name.padEnd(48)} ${num(m.value).padStart(12)} ${m.unit}${base}${m.note ? `  (${m.note})` : ""}`;
  });
}
