import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";

/**
 * Rule categories: WIRE and WIRE_JSON as Buf names them (WIRE_JSON includes
 * every WIRE rule), and CONFLUENT, the verdicts of Confluent's registry for
 * Protobuf schemas (a subject judged as a whole file; see
 * docs/schema-evolution.md).
 */
export type RuleCategory = "WIRE" | "WIRE_JSON" | "CONFLUENT";

/** Confluent-style compatibility modes. */
export type CompatibilityMode = "BACKWARD" | "BACKWARD_TRANSITIVE" | "FORWARD" | "FORWARD_TRANSITIVE" | "FULL" | "FULL_TRANSITIVE" | "NONE";

/** Where an element is declared, from the descriptor's source info (1-based). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One broken rule. */
export interface Violation {
  /** Buf's rule ID, e.g. `FIELD_WIRE_COMPATIBLE_TYPE`. */
  rule: string;
  /** What changed, in words a person understands. */
  message: string;
  /** Full path of the element: `acme.orders.v1.OrderPlaced.total_cents`. */
  path: string;
  /** Location in the newer schema (or in the older one for deletions) when source info exists. */
  location?: SourceLocation;
  /** The registered version this schema conflicts with, when checking against a subject's history. */
  againstVersion?: number;
}

/** A registered schema version of a subject, oldest first in histories. */
export interface SchemaVersion {
  version: number;
  schema: FileDescriptorSet;
}

/** Input of a compatibility check of one subject. */
export interface CompatibilityRequest {
  /** Subject: the event's full message name (`acme.orders.v1.OrderPlaced`). */
  subject: string;
  /** The proposed new schema, self-contained. */
  next: FileDescriptorSet;
  /** Earlier versions, oldest first. */
  history: readonly SchemaVersion[];
  mode: CompatibilityMode;
  category: RuleCategory;
}

/** Result of a compatibility check. */
export interface CompatibilityResult {
  compatible: boolean;
  violations: Violation[];
}
