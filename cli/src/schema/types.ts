import type { FileRegistry } from "@bufbuild/protobuf";
import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import type { CompatibilityMode, RuleCategory } from "@chronicle/registry/compat";

/**
 * One side of a schema comparison: a compiled image and the events it
 * declares. Built from the working tree, a git ref or a saved image file.
 */
export interface SchemaSide {
  /** How the side is named in reports: `working tree`, `git HEAD~1 (3f2a9c1)`, `image old.binpb`. */
  readonly label: string;
  /** The image as buf built it (imports included, with source info when buf kept it). */
  readonly image: FileDescriptorSet;
  /** Every file of the image. */
  readonly registry: FileRegistry;
  /** Full names of the messages annotated with `(chronicle.v1.event)`, sorted. */
  readonly events: readonly string[];
  /** Full names of every message of the module's own files (not imports, not Chronicle's or Google's protos), sorted. */
  readonly messages: readonly string[];
  /** Names of the module's own files, as the image names them (not imports, not Chronicle's or Google's protos). */
  readonly files: ReadonlySet<string>;
  /** Packages of the module's own files. */
  readonly packages: ReadonlySet<string>;
  /**
   * The absolute path of an image file name (`acme/v1/orders.proto`) in the
   * project's working tree, for reports; undefined when the side cannot tell
   * (an image file).
   */
  localPath(file: string): string | undefined;
}

/** A position to report a violation at. `file` is absolute when known on disk, else as the image names it. */
export interface ReportLocation {
  file: string;
  line: number;
  column: number;
}

/** One broken rule as the CLI reports it. */
export interface ReportedViolation {
  /** Buf's rule ID. */
  rule: string;
  message: string;
  /** Full path of the element (`acme.orders.v1.OrderPlaced.total`). */
  path: string;
  location?: ReportLocation;
  /** What the schema conflicts with: `git HEAD~1`, `registry v3`, `image old.binpb`. */
  against: string;
}

/**
 * What happened to one subject: `new` (no earlier version), `unchanged`
 * (same schema id), `compatible`, `incompatible`, or `deleted` (declared on
 * the earlier side only; reported as a violation unless the mode is NONE).
 */
export type SubjectStatus = "new" | "unchanged" | "compatible" | "incompatible" | "deleted";

/** The result of one subject. */
export interface SubjectReport {
  subject: string;
  status: SubjectStatus;
  mode: CompatibilityMode;
  rules: RuleCategory;
  violations: ReportedViolation[];
  /** The registered version the schema already is, or the version `push` registered. */
  version?: number;
  /** The schema id of the working-tree schema. */
  id?: string;
}

/** The result of `chronicle schema check` (and the check step of `push`). */
export interface CheckReport {
  /** What the working tree was compared with: `git HEAD~1 (3f2a9c1)`, `registry http://...`, `image old.binpb`. */
  against: string;
  compatible: boolean;
  subjects: SubjectReport[];
  /**
   * Violations of a whole-module check (`--all-messages` against a git ref
   * or an image) that affect no subject checked on both sides: an RPC, a
   * file's package, an enum or extension no message uses. They make the
   * report incompatible like any other.
   */
  moduleViolations?: ReportedViolation[];
}
