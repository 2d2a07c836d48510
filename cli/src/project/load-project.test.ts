import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isChronicleError } from "@chronicle/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "./load-project.js";

const optionsProto = join(dirname(fileURLToPath(import.meta.url)), "../../../codegen/proto");
const dirs: string[] = [];

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "chronicle-project-"));
  dirs.push(dir);
  cpSync(optionsProto, join(dir, "vendor"), { recursive: true });
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: vendor\n");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, "proto", name)), { recursive: true });
    writeFileSync(join(dir, "proto", name), text);
  }
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const HEADER = `syntax = "proto3";\npackage acme.v1;\nimport "chronicle/v1/options.proto";\n`;

describe("loadProject", () => {
  it("builds the image and the event model", async () => {
    const dir = project({
      "acme/v1/orders.proto": `${HEADER}option (chronicle.v1.stream) = { name: "orders", partitions: 3 };\nmessage OrderPlaced {\n  option (chronicle.v1.event) = { stream: "orders", key: "id" };\n  string id = 1;\n}\n`,
    });
    const { streams, registry, image } = await loadProject(dir);
    expect(streams.map((s) => [s.settings.name, s.settings.partitions, s.events.map((e) => e.typeName)])).toEqual([["orders", 3, ["acme.v1.OrderPlaced"]]]);
    expect(registry.getMessage("acme.v1.OrderPlaced")?.name).toBe("OrderPlaced");
    expect(image.file.map((f) => f.name)).toContain("google/protobuf/descriptor.proto");
  });

  it("throws invalid_argument with compiler-style lines for invalid options, paths relative to the project", async () => {
    const dir = project({
      "acme/v1/orders.proto": `${HEADER}message A {\n  option (chronicle.v1.event) = { stream: "orders", key: "nope" };\n  string id = 1;\n}\n`,
    });
    const err: unknown = await loadProject(dir).catch((e: unknown) => e);
    expect(isChronicleError(err, "invalid_argument")).toBe(true);
    expect((err as Error).message).toMatch(/^proto\/acme\/v1\/orders\.proto:5:\d+: option \(chronicle\.v1\.event\) of A: key "nope" is invalid/m);
  });

  it("throws invalid_argument with buf's errors when the protos do not compile", async () => {
    const dir = project({ "acme/v1/orders.proto": `${HEADER}message A { strin id = 1; }\n` });
    const err: unknown = await loadProject(dir).catch((e: unknown) => e);
    expect(isChronicleError(err, "invalid_argument")).toBe(true);
    expect((err as Error).message).toMatch(/proto\/acme\/v1\/orders\.proto:4:\d+/);
  });

  it("throws invalid_argument for a folder that does not exist", async () => {
    await expect(loadProject(join(tmpdir(), "no-such-chronicle-project"))).rejects.toMatchObject({ code: "invalid_argument" });
  });
});
