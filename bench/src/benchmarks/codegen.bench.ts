import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createFileRegistry, create, fromBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { protocGenChronicle } from "@chronicle/codegen";
import type { Benchmark, Measurement } from "../harness.js";

const root = process.cwd();
const require = createRequire(import.meta.url);
const BUF = join(root, "node_modules", ".bin", "buf");
const TSC = require.resolve("typescript/bin/tsc");
const PROTOC_GEN_ES = require.resolve("@bufbuild/protoc-gen-es/bin/protoc-gen-es");
// the built plugin, as users run it from an installed package (the repository's
// launcher would run the sources through tsx, which measures tsx, not the plugin)
const PROTOC_GEN_CHRONICLE = resolve(root, "codegen/dist/bin/protoc-gen-chronicle.js");

/** One file of `events` event messages in stream `s<i>`, keyed by a top-level or nested field. */
function eventsProto(i: number, events: number): string {
  const pkg = `bench.s${i}.v1`;
  const lines = [
    `syntax = "proto3";`,
    `package ${pkg};`,
    `import "chronicle/v1/options.proto";`,
    `option (chronicle.v1.stream) = { name: "s${i}", partitions: 16, max_age: "7d" };`,
    `message Party { string id = 1; string name = 2; }`,
  ];
  for (let e = 0; e < events; e++) {
    const key = e % 2 ? "party.id" : "entity_id";
    lines.push(
      `// Event ${e} of stream s${i}.`,
      `message Event${e} {`,
      `  option (chronicle.v1.event) = { stream: "s${i}", key: "${key}", idempotency_key: "request_id" };`,
      `  string entity_id = 1; Party party = 2; int64 amount = 3; string request_id = 4; repeated string tags = 5; bool flag = 6;`,
      `}`,
    );
  }
  return lines.join("\n");
}

function ms(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function template(plugins: string[]): string {
  return JSON.stringify({
    version: "v2",
    plugins: plugins.map((p) => ({ local: ["node", p], out: "gen", strategy: "all", opt: ["target=ts", "import_extension=js"] })),
  });
}

const benchmark: Benchmark = {
  name: "codegen",
  description: "protoc-gen-chronicle: buf generate and strict tsc over N event messages, beside protoc-gen-es alone on the same schemas",
  async run(ctx) {
    const files = ctx.quick ? 5 : 25;
    const perFile = 20;
    ctx.log("building @chronicle/codegen (dist/)");
    execFileSync("npm", ["run", "build", "--workspace", "@chronicle/codegen"], { cwd: root, stdio: "pipe" });
    const dir = mkdtempSync(join(tmpdir(), "chronicle-bench-codegen-"));
    try {
      writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n");
      // an ESM package that resolves the repository's node_modules, as a user's project would
      writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
      symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
      cpSync(join(root, "codegen/proto/chronicle"), join(dir, "proto/chronicle"), { recursive: true });
      for (let i = 0; i < files; i++) {
        mkdirSync(join(dir, `proto/bench/s${i}/v1`), { recursive: true });
        writeFileSync(join(dir, `proto/bench/s${i}/v1/events.proto`), eventsProto(i, perFile));
      }
      const events = files * perFile;
      ctx.log(`codegen: ${events} events in ${files} files`);
      const gen = (plugins: string[]) => {
        rmSync(join(dir, "gen"), { recursive: true, force: true });
        return ms(() => execFileSync(BUF, ["generate", "--template", template(plugins)], { cwd: dir, stdio: "pipe" }));
      };
      // warm both (file cache, buf's own start-up)
      gen([PROTOC_GEN_ES, PROTOC_GEN_CHRONICLE]);
      const esOnly = Math.min(gen([PROTOC_GEN_ES]), gen([PROTOC_GEN_ES]));
      const tscEsOnly = ms(() => tsc(dir));
      const both = Math.min(gen([PROTOC_GEN_ES, PROTOC_GEN_CHRONICLE]), gen([PROTOC_GEN_ES, PROTOC_GEN_CHRONICLE]));
      const tscBoth = ms(() => tsc(dir));

      // the plugin alone, in-process, on the request buf would send
      const image = fromBinary(FileDescriptorSetSchema, execFileSync(BUF, ["build", "-o", "-#format=binpb"], { cwd: dir, maxBuffer: 1 << 28 }));
      createFileRegistry(image);
      const request = create(CodeGeneratorRequestSchema, {
        fileToGenerate: image.file.filter((f) => f.name.startsWith("bench/")).map((f) => f.name),
        parameter: "target=ts,import_extension=js",
        protoFile: image.file,
      });
      const inProcess = Math.min(...[0, 1, 2].map(() => ms(() => protocGenChronicle.run(request))));

      const m: Measurement[] = [
        {
          name: `buf generate, protoc-gen-es + protoc-gen-chronicle (${events} events)`,
          value: Math.round(both),
          unit: "ms",
          lowerIsBetter: true,
          baseline: { name: "buf generate, protoc-gen-es alone", value: Math.round(esOnly) },
          note: "target < 3000 ms",
        },
        {
          name: `protoc-gen-chronicle in-process (${events} events)`,
          value: Math.round(inProcess),
          unit: "ms",
          lowerIsBetter: true,
          baseline: { name: "buf generate, protoc-gen-es alone", value: Math.round(esOnly) },
        },
        {
          name: `tsc --noEmit strict, *_pb.ts + *_chronicle.ts (${events} events)`,
          value: Math.round(tscBoth),
          unit: "ms",
          lowerIsBetter: true,
          baseline: { name: "tsc --noEmit strict, *_pb.ts alone", value: Math.round(tscEsOnly) },
        },
      ];
      return m;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Strict tsc over the generated folder, resolving the repository's packages from their sources. */
function tscArgs(dir: string): string[] {
  const config = join(dir, "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(root, "tsconfig.base.json"),
      compilerOptions: { noEmit: true, typeRoots: [join(root, "node_modules/@types")], paths: { "@chronicle/runtime": [join(root, "runtime/src/index.ts")] } },
      include: [join(dir, "gen")],
    }),
  );
  return ["-p", config];
}

export default benchmark;

function tsc(dir: string): void {
  try {
    execFileSync(process.execPath, [TSC, ...tscArgs(dir)], { cwd: dir, stdio: "pipe", encoding: "utf8" });
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? "";
    throw new Error(`tsc failed on the generated code:\n${out.split("\n").slice(0, 10).join("\n")}`);
  }
}
