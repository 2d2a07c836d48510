import { create, type DescFile } from "@bufbuild/protobuf";
import { createEcmaScriptPlugin, type Plugin, type Schema } from "@bufbuild/protoplugin";
import { CodeGeneratorResponseSchema, type CodeGeneratorRequest } from "@bufbuild/protobuf/wkt";
import { buildEventModel } from "../model/build-event-model.js";
import { formatDiagnostic } from "../model/diagnostics.js";
import type { Diagnostic, StreamModel } from "../model/types.js";
import { generateStream } from "./generate-stream.js";
import { eventSchemaIds } from "./schema-ids.js";

/** Version written into generated files' preamble. */
export const PLUGIN_VERSION = "0.1.0";

/** Thrown inside the plugin when options are invalid; the message lists every diagnostic. */
class OptionsError extends Error {
  override name = "OptionsError";
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
  }
}

/**
 * The file that carries a stream's generated code: the file declaring the
 * stream's settings when it is generated in this run, else the first
 * generated file (by name) holding one of its events.
 */
function homeFile(stream: StreamModel, generated: ReadonlySet<string>): string | undefined {
  const declared = stream.location?.file;
  if (declared !== undefined && generated.has(declared)) return declared;
  return stream.events
    .map((e) => e.desc.file.proto.name)
    .filter((name) => generated.has(name))
    .sort()[0];
}

function generateTs(schema: Schema): void {
  const { streams, diagnostics } = buildEventModel(schema.allFiles);
  if (diagnostics.length) throw new OptionsError(diagnostics);
  const byName = new Map<string, DescFile>(schema.files.map((f) => [f.proto.name, f]));
  const perFile = new Map<string, StreamModel[]>();
  for (const stream of streams) {
    const home = homeFile(stream, new Set(byName.keys()));
    if (home === undefined) continue;
    perFile.set(home, [...(perFile.get(home) ?? []), stream]);
  }
  const generated = [...perFile].sort(([a], [b]) => a.localeCompare(b));
  const schemaIds = eventSchemaIds(
    schema.allFiles,
    generated.flatMap(([, fileStreams]) => fileStreams.flatMap((s) => s.events)),
  );
  for (const [name, fileStreams] of generated) {
    const file = byName.get(name)!;
    const f = schema.generateFile(`${file.name}_chronicle.ts`);
    f.preamble(file);
    for (const stream of fileStreams) generateStream(f, stream, schemaIds);
  }
}

const esPlugin = createEcmaScriptPlugin({
  name: "protoc-gen-chronicle",
  version: `v${PLUGIN_VERSION}`,
  generateTs,
});

/**
 * protoc-gen-chronicle: for each stream declared with Chronicle's options it
 * writes `<file>_chronicle.ts` beside protoc-gen-es's `<file>_pb.ts` with the
 * stream definition, a typed producer and typed consumer handlers.
 *
 * Invalid options produce no files: the response carries an error listing
 * each problem as `path/to/file.proto:LINE:COLUMN: message`, which buf and
 * protoc print.
 */
export const protocGenChronicle: Plugin = {
  name: esPlugin.name,
  version: esPlugin.version,
  run(request: CodeGeneratorRequest) {
    try {
      return esPlugin.run(request);
    } catch (err) {
      if (err instanceof OptionsError) return create(CodeGeneratorResponseSchema, { error: err.message });
      throw err;
    }
  },
};
