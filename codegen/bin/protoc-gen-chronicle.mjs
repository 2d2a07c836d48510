#!/usr/bin/env node
// protoc-gen-chronicle launcher. Installed from npm (the package sits under a
// node_modules folder), it runs the built plugin in dist/. In the Chronicle
// repository it runs the TypeScript sources through tsx, with the
// "@chronicle/source" condition so the registry's compat functions resolve to
// their sources too: a stale (or missing) dist/ is never used by mistake.
import { register } from "node:module";
import { fileURLToPath } from "node:url";

const installed = fileURLToPath(import.meta.url).includes("/node_modules/");
if (installed) {
  await import(new URL("../dist/bin/protoc-gen-chronicle.js", import.meta.url).href);
} else {
  const addSourceCondition =
    'export function resolve(specifier, context, next) { return next(specifier, { ...context, conditions: [...context.conditions, "@chronicle/source"] }); }';
  register(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`);
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  await import(new URL("../src/bin/protoc-gen-chronicle.ts", import.meta.url).href);
}
