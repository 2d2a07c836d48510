// `npm run gen`: regenerates every checked-in generated file. `npm run
// gen:check` runs this and fails when git sees a difference. Each step is
// one entry of `steps`; add yours there.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// buf finds local plugins (protoc-gen-es) on PATH
const env = { ...process.env, PATH: [join(root, "node_modules", ".bin"), process.env.PATH].join(delimiter) };

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, env, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed with exit code ${r.status ?? r.signal}`);
}

function buf(...args) {
  run(join(root, "node_modules", ".bin", "buf"), args);
}

// Chronicle's options: one file, shipped in @chronicle/codegen and imported by every module here
const OPTIONS = "codegen/proto/chronicle/v1/options.proto";

const steps = [
  {
    what: "codegen/src/gen: protobuf-es schemas of chronicle/v1/options.proto (protoc-gen-es)",
    run() {
      rmSync(join(root, "codegen/src/gen"), { recursive: true, force: true });
      buf("generate", "--template", "buf.gen.yaml", "--path", OPTIONS);
    },
  },
  {
    what: "registry/src/gen: protobuf-es schemas of chronicle/registry/v1/registry.proto (protoc-gen-es)",
    run() {
      rmSync(join(root, "registry/src/gen"), { recursive: true, force: true });
      buf("generate", "--template", "registry/buf.gen.yaml", "--path", "schemas/chronicle/registry");
    },
  },
  {
    what: "console/src/gen: protobuf-es schemas of chronicle/console/v1/console.proto (protoc-gen-es; registry messages imported from @chronicle/registry)",
    run() {
      rmSync(join(root, "console/src/gen"), { recursive: true, force: true });
      buf("generate", "--template", "console/buf.gen.yaml", "--path", "schemas/chronicle/console");
    },
  },
  {
    what: "codegen/testdata/gen: protoc-gen-chronicle's golden output for the sample (protoc-gen-es + protoc-gen-chronicle)",
    run() {
      rmSync(join(root, "codegen/testdata/gen"), { recursive: true, force: true });
      // codegen/ is a workspace of its own: its sample declares another "orders" stream
      buf("generate", "codegen", "--template", "codegen/testdata/buf.gen.yaml", "--path", "codegen/testdata/proto/acme", "--path", OPTIONS);
    },
  },
  ...["identity", "orders"].map((ex) => ({
    what: `examples/${ex}/src/gen: the ${ex} example's typed SDK (protoc-gen-es + protoc-gen-chronicle)`,
    run() {
      rmSync(join(root, `examples/${ex}/src/gen`), { recursive: true, force: true });
      buf("generate", "--template", `examples/${ex}/buf.gen.yaml`, "--path", `examples/${ex}/proto/shop`, "--path", OPTIONS);
    },
  })),
];

for (const step of steps) {
  console.log(`gen: ${step.what}`);
  step.run();
}
