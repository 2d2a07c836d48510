import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { extractSubjectSchema, normalizeSchema, registryApi, SchemaValidationError, schemaId, type RegistryClient } from "@chronicle/registry";
import { type OperationsService, SchemaSubjectSchema } from "../gen/chronicle/console/v1/console_pb.js";
import { mapLimit } from "./async-queue.js";
import { invalidArgument } from "./connect-errors.js";
import type { ConsoleDeps } from "./deps.js";
import { compareSchemas, type VersionedSchema } from "./schemas/schema-diff.js";

type Handlers = Pick<ServiceImpl<typeof OperationsService>, "listSchemaSubjects" | "diffVersions" | "dryRun">;

function registryOf(deps: ConsoleDeps): RegistryClient {
  if (!deps.registry) throw new ConnectError("the console has no registry (start it with --registry URL)", Code.FailedPrecondition);
  return deps.registry;
}

function decodeSet(bytes: Uint8Array, what: string): FileDescriptorSet {
  try {
    return fromBinary(FileDescriptorSetSchema, bytes);
  } catch (err) {
    throw invalidArgument(what, `not a serialized FileDescriptorSet: ${(err as Error).message}`);
  }
}

/** The live versions of a subject up to `upTo`, oldest first, decoded. */
async function history(registry: RegistryClient, subject: string, upTo = Infinity): Promise<(VersionedSchema & { id: string })[]> {
  const versions = (await registry.listVersions(subject)).filter((v) => v <= upTo).sort((a, b) => a - b);
  return mapLimit(versions, 4, async (v) => {
    const r = await registry.getVersion(subject, v);
    return { version: v, id: r.id, schema: decodeSet(r.schema, `${subject} version ${v}`) };
  });
}

/** The schema pages' calls: subjects with their settings, version diffs, dry runs. */
export function schemaHandlers(deps: ConsoleDeps): Handlers {
  return {
    async listSchemaSubjects() {
      const registry = registryOf(deps);
      const [subjects, global] = await Promise.all([registry.listSubjects(), registry.getConfig()]);
      const rows = await mapLimit(subjects.sort(), 8, async (subject) => {
        const [latest, config, versions] = await Promise.all([registry.getLatestVersion(subject), registry.getConfig(subject), registry.listVersions(subject)]);
        return create(SchemaSubjectSchema, {
          subject,
          latestVersion: latest.version,
          latestId: latest.id,
          versionCount: versions.length,
          mode: registryApi.CompatibilityMode[config.mode],
          category: registryApi.RuleCategory[config.category],
          inherited: config.inherited,
          registeredAt: latest.registeredAt,
        });
      });
      return { subjects: rows, globalMode: registryApi.CompatibilityMode[global.mode], globalCategory: registryApi.RuleCategory[global.category] };
    },

    async diffVersions(req) {
      const registry = registryOf(deps);
      if (req.fromVersion < 1 || req.toVersion < 1) throw invalidArgument("from_version/to_version", "both versions are required (1 or more)");
      const [older, newer] = req.fromVersion <= req.toVersion ? [req.fromVersion, req.toVersion] : [req.toVersion, req.fromVersion];
      const [config, before, next] = await Promise.all([
        registry.getConfig(req.subject),
        history(registry, req.subject, older),
        registry.getVersion(req.subject, newer),
      ]);
      if (before[before.length - 1]?.version !== older) throw new ConnectError(`subject ${req.subject} has no live version ${older}`, Code.NotFound);
      const c = compareSchemas(req.subject, before, decodeSet(next.schema, `version ${newer}`), config.mode, config.category);
      return {
        subject: req.subject,
        ...c,
        subjectMode: registryApi.CompatibilityMode[config.mode],
        category: registryApi.RuleCategory[config.category],
        leftId: before[before.length - 1]!.id,
        rightId: next.id,
      };
    },

    async dryRun(req) {
      const registry = registryOf(deps);
      if (!req.subject) throw invalidArgument("subject", "the subject (the event's full name) is required");
      let set: FileDescriptorSet;
      if (req.files.length > 0) {
        if (!deps.compileProto)
          throw new ConnectError("this console cannot compile .proto files; upload a descriptor set (buf build -o set.binpb)", Code.Unimplemented);
        for (const f of req.files)
          if (!/^[\w./-]+\.proto$/.test(f.name) || f.name.includes("..")) throw invalidArgument("files", `not a .proto path: ${JSON.stringify(f.name)}`);
        set = await deps.compileProto(req.files.map((f) => ({ name: f.name, content: f.content })));
      } else if (req.descriptorSet.length > 0) set = decodeSet(req.descriptorSet, "descriptor_set");
      else throw invalidArgument("files/descriptor_set", "paste .proto files or upload a descriptor set");
      let subjectSchema: FileDescriptorSet;
      try {
        subjectSchema = normalizeSchema(extractSubjectSchema(set, req.subject));
      } catch (err) {
        if (err instanceof SchemaValidationError) throw invalidArgument("schema", err.message);
        throw err;
      }
      const id = schemaId(subjectSchema);
      const [config, versions] = await Promise.all([
        registry.getConfig(req.subject),
        history(registry, req.subject).catch((err: unknown) => {
          // a new subject has no history yet
          if (ConnectError.from(err).code === Code.NotFound) return [];
          throw err;
        }),
      ]);
      const c = compareSchemas(req.subject, versions, subjectSchema, config.mode, config.category);
      return {
        id,
        existingVersion: versions.find((v) => v.id === id)?.version ?? 0,
        latestVersion: versions[versions.length - 1]?.version ?? 0,
        subjectMode: registryApi.CompatibilityMode[config.mode],
        category: registryApi.RuleCategory[config.category],
        schema: toBinary(FileDescriptorSetSchema, subjectSchema),
        ...c,
      };
    },
  };
}
