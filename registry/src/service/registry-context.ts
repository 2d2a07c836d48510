import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import type { RegistryReplica } from "../storage/registry-replica.js";
import type { CompatEngine } from "./compat-engine.js";
import { RegistryError } from "./registry-error.js";

/** Decoded schemas kept for compatibility checks; schemas are immutable, so entries never go stale. */
const DECODED_SCHEMAS_KEPT = 1024;

/**
 * What every registry operation works with: the server's replica of the
 * bucket (reads from its copy, writes through it), the compatibility
 * engine, and the limits and flags the server was started with.
 * @private
 */
export interface RegistryContext {
  readonly replica: RegistryReplica;
  readonly engine: CompatEngine;
  /** The server refuses every write (started read-only). */
  readonly serverReadOnly: boolean;
  /** Largest schema accepted, decoded bytes as sent and normalised. */
  readonly maxSchemaBytes: number;
  /** Attempts of a compare-and-set before giving up with `too_many_writers`. */
  readonly maxCasAttempts: number;
  /** Where operations report what they left undone; never given a token. */
  readonly log: (line: string) => void;
  /** A registered schema, decoded; throws `missing_schema` when the copy does not hold it. */
  decodedSchema(id: string): FileDescriptorSet;
}

/** Creates a {@link RegistryContext}. @private */
export function createRegistryContext(options: Omit<RegistryContext, "decodedSchema">): RegistryContext {
  const decoded = new Map<string, FileDescriptorSet>();
  return {
    ...options,
    decodedSchema(id) {
      const cached = decoded.get(id);
      if (cached) return cached;
      const bytes = options.replica.state.schema(id);
      if (!bytes) throw new RegistryError("missing_schema", `schema ${id} is referenced by a subject but missing from storage`);
      const fds = fromBinary(FileDescriptorSetSchema, bytes);
      if (decoded.size >= DECODED_SCHEMAS_KEPT) decoded.delete(decoded.keys().next().value!);
      decoded.set(id, fds);
      return fds;
    },
  };
}
