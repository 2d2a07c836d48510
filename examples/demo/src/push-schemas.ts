// Registers the examples' event schemas in the schema registry, the way
// `chronicle schema push` does after a merge (one subject per event, its
// schema being the file that declares it and the files it imports), but
// from the descriptors embedded in the generated code, so the demo needs no
// `buf build`. Also shows the registry refusing an incompatible change.
import { clone, create, type DescFile } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Type, FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { extractSubjectSchema, type RegistryClient } from "@chronicle/registry";
import type { EventSchemas, StreamDefinition } from "@chronicle/runtime";

/** The descriptor set of a file and everything it imports. */
export function descriptorSetOf(file: DescFile): FileDescriptorSet {
  const files: DescFile[] = [];
  const visit = (f: DescFile) => {
    if (files.includes(f)) return;
    f.dependencies.forEach(visit);
    files.push(f);
  };
  visit(file);
  return create(FileDescriptorSetSchema, { file: files.map((f) => clone(FileDescriptorProtoSchema, f.proto)) });
}

/** One registered subject. */
export interface PushedSubject {
  subject: string;
  version: number;
  id: string;
  created: boolean;
}

/** Registers every event of the streams; idempotent (a second push creates nothing). */
export async function pushSchemas(client: RegistryClient, streams: StreamDefinition<EventSchemas>[]): Promise<PushedSubject[]> {
  const pushed: PushedSubject[] = [];
  for (const stream of streams) {
    for (const def of Object.values(stream.events)) {
      const fds = descriptorSetOf(def.schema.file);
      const r = await client.register(def.type, extractSubjectSchema(fds, def.type));
      pushed.push({ subject: def.type, ...r });
    }
  }
  return pushed;
}

/**
 * Asks the registry whether changing the type of one field of an event
 * (`int64 total_cents` to `string`) would be accepted; it is not, and the
 * answer names the rule and the field. Returns the violations, one per line.
 */
export async function tryIncompatibleChange(client: RegistryClient, stream: StreamDefinition<EventSchemas>, event: string, field: string): Promise<string[]> {
  const def = stream.events[event];
  if (!def) throw new Error(`no event ${event}`);
  const fds = descriptorSetOf(def.schema.file);
  const message = fds.file.flatMap((f) => f.messageType).find((m) => def.type.endsWith(`.${m.name}`));
  const target = message?.field.find((f) => f.name === field);
  if (!target) throw new Error(`no field ${field} in ${event}`);
  target.type = FieldDescriptorProto_Type.STRING;
  const check = await client.checkCompatibility(def.type, extractSubjectSchema(fds, def.type));
  return check.violations.map((v) => `${v.rule} ${v.path}: ${v.message}`);
}
