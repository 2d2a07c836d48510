import { readFileSync } from "node:fs";

/** The version of @chronicle/cli, read from its package.json. */
export const cliVersion: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
