#!/usr/bin/env node
// protoc-gen-chronicle launcher. Installed from npm (the package sits under a
// node_modules folder), it runs the built plugin in dist/. In the Chronicle
// repository it runs the TypeScript sources through tsx, so a stale dist/ from
// an earlier `npm run build` is never used by mistake.
import { fileURLToPath } from "node:url";

const installed = fileURLToPath(import.meta.url).includes("/node_modules/");
if (installed) {
  await import(new URL("../dist/bin/protoc-gen-chronicle.js", import.meta.url).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/bin/protoc-gen-chronicle.ts", import.meta.url).href);
}
