#!/usr/bin/env node
// The `chronicle` command. Installed from npm (the package sits under a
// node_modules folder), it runs the built CLI in dist/. In the Chronicle
// repository it runs the TypeScript sources through tsx, with the
// "@chronicle/source" condition so the other workspace packages resolve to
// their sources too: `npx --no-install chronicle` works right after `npm ci`,
// and a stale dist/ from an earlier build is never used by mistake.
import { register } from "node:module";
import { fileURLToPath } from "node:url";

if (fileURLToPath(import.meta.url).includes("/node_modules/")) {
  await import("../dist/bin.js");
} else {
  const addSourceCondition =
    'export function resolve(specifier, context, next) { return next(specifier, { ...context, conditions: [...context.conditions, "@chronicle/source"] }); }';
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  await import("../src/bin.ts");
}
