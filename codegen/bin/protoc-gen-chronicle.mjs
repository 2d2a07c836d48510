#!/usr/bin/env node
// protoc-gen-chronicle launcher: runs the built plugin from dist/ when the
// package is built (as installed from npm), else the TypeScript sources
// through tsx (development in the Chronicle repository).
import { existsSync } from "node:fs";

const dist = new URL("../dist/bin/protoc-gen-chronicle.js", import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/bin/protoc-gen-chronicle.ts", import.meta.url).href);
}
