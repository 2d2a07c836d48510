import type { Command } from "./command.js";

/** Renders the `--help` text of a command. @private */
export function renderHelp(command: Command, path: string[]): string {
  const lines: string[] = [];
  const positional = (command.positionals ?? []).map((p) => {
    const n = `<${p.name}>${p.variadic ? "..." : ""}`;
    return p.required ? n : `[${n}]`;
  });
  const usage = [path.join(" "), command.subcommands ? "<command>" : "", command.options ? "[options]" : "", ...positional].filter(Boolean).join(" ");
  lines.push(`Usage: ${usage}`, "", command.description ?? command.summary);
  if (command.subcommands) {
    lines.push("", "Commands:");
    const width = Math.max(...command.subcommands.map((c) => c.name.length));
    for (const c of command.subcommands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  }
  if (command.positionals?.length) {
    lines.push("", "Arguments:");
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(18)}  ${p.description}`);
  }
  const opts = Object.entries(command.options ?? {}).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "boolean" ? "" : ` ${o.valueName ?? (o.type === "integer" ? "N" : "VALUE")}`}`;
    const def = o.type !== "boolean" && o.default !== undefined ? ` (default: ${o.default})` : "";
    return [flag, `${o.description}${def}`] as const;
  });
  opts.push(["-h, --help", "Show this help"]);
  if (path.length === 1) opts.push(["-V, --version", "Print the version"]);
  lines.push("", "Options:");
  const width = Math.max(...opts.map(([f]) => f.length));
  for (const [f, d] of opts) lines.push(`  ${f.padEnd(width)}  ${d}`);
  if (command.examples?.length) {
    lines.push("", "Examples:");
    for (const e of command.examples) lines.push(`  ${e}`);
  }
  if (command.subcommands) lines.push("", `Run "${path.join(" ")} <command> --help" for a command's options.`);
  return lines.join("\n");
}
