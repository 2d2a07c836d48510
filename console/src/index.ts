// @chronicle/console: the Chronicle Console, a web UI for schemas, streams,
// consumer groups and dead letters, and the operations API it calls. The
// CLI's `chronicle console` and `chronicle dev` start it.

export { startConsoleServer, type ConsoleServer, type ConsoleServerOptions } from "./server/console-server.js";
export type { ProtoCompiler } from "./server/deps.js";
export { REQUIRED_ROLE, type Caller } from "./server/access.js";
export { AUDIT_STREAM, AUDIT_SUBJECT, type AuditRecord, type AuditLogOptions } from "./server/audit-log.js";
export { ensureWebBuilt, DEFAULT_WEB_DIR } from "./server/web-assets.js";

// The operations API's generated schemas (chronicle.console.v1), for typed clients.
export * as consoleApi from "./gen/chronicle/console/v1/console_pb.js";
