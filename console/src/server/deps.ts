import type { FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import type { RegistryClient } from "@chronicle/registry";
import type { ChronicleConnection } from "@chronicle/runtime";
import type { AuditLog } from "./audit-log.js";
import type { GroupWatchHub } from "./group-watch.js";
import type { GroupsSource } from "./groups-source.js";
import type { HealthMonitor } from "./health.js";
import type { SchemaDecoder } from "./messages/schema-decoder.js";
import type { StreamsSource } from "./streams-source.js";

/**
 * Compiles .proto files into a self-contained descriptor set (imports and
 * well-known types included). The console does not bundle a compiler; the
 * CLI passes one that runs buf. Throws with the compiler's message for
 * files that do not compile.
 */
export type ProtoCompiler = (files: { name: string; content: string }[]) => Promise<FileDescriptorSet>;

/** What the handlers of the operations service share. @private */
export interface ConsoleDeps {
  conn: ChronicleConnection;
  registry: RegistryClient | undefined;
  registryUrl: string;
  natsServers: string;
  version: string;
  decoder: SchemaDecoder;
  streams: StreamsSource;
  groups: GroupsSource;
  groupWatch: GroupWatchHub;
  health: HealthMonitor;
  audit: AuditLog;
  compileProto: ProtoCompiler | undefined;
}
