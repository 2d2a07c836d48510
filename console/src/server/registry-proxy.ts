import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { registryApi, type RegistryClient } from "@chronicle/registry";
import { callerOf } from "./access.js";
import type { AuditLog } from "./audit-log.js";

type RegistryService = typeof registryApi.RegistryService;

/**
 * `chronicle.registry.v1.RegistryService` as the console serves it: each
 * call is checked against the caller's console role (see `REQUIRED_ROLE`)
 * and forwarded to the registry with the console's own registry token;
 * answers and errors (codes, messages, violation details) come back
 * unchanged, so the UI and curl use the registry's own API through the
 * console. Writes (register, settings, deletes) go through the audit log.
 */
export function registryProxy(registry: RegistryClient | undefined, audit: AuditLog): ServiceImpl<RegistryService> {
  const raw = () => {
    if (!registry) throw new ConnectError("the console has no registry (start it with --registry URL)", Code.FailedPrecondition);
    return registry.raw;
  };
  const opts = (ctx: HandlerContext) => ({ signal: ctx.signal });
  const audited = <T>(ctx: HandlerContext, action: string, target: string, fn: () => Promise<T>, describe?: (r: T) => string) =>
    audit.run(callerOf(ctx), action, target, fn, describe);
  return {
    register: (req, ctx) =>
      audited(
        ctx,
        "register",
        req.subject,
        () => raw().register(req, opts(ctx)),
        (r) => `version ${r.version} (${r.id})${r.created ? "" : ", already registered"}`,
      ),
    getSchema: (req, ctx) => raw().getSchema(req, opts(ctx)),
    getVersion: (req, ctx) => raw().getVersion(req, opts(ctx)),
    getLatestVersion: (req, ctx) => raw().getLatestVersion(req, opts(ctx)),
    listSubjects: (req, ctx) => raw().listSubjects(req, opts(ctx)),
    listVersions: (req, ctx) => raw().listVersions(req, opts(ctx)),
    checkCompatibility: (req, ctx) => raw().checkCompatibility(req, opts(ctx)),
    getConfig: (req, ctx) => raw().getConfig(req, opts(ctx)),
    setConfig: (req, ctx) =>
      audited(
        ctx,
        "set_config",
        req.subject || "(global)",
        () => raw().setConfig(req, opts(ctx)),
        (r) =>
          `mode ${registryApi.CompatibilityMode[r.config?.mode ?? 0]}, rules ${registryApi.RuleCategory[r.config?.category ?? 0]}${r.config?.inherited ? " (inherited)" : ""}`,
      ),
    deleteVersion: (req, ctx) =>
      audited(ctx, "delete_version", `${req.subject} v${req.version}${req.permanent ? " (permanent)" : ""}`, () => raw().deleteVersion(req, opts(ctx))),
    deleteSubject: (req, ctx) =>
      audited(
        ctx,
        "delete_subject",
        `${req.subject}${req.permanent ? " (permanent)" : ""}`,
        () => raw().deleteSubject(req, opts(ctx)),
        (r) => `versions ${r.versions.join(", ")}`,
      ),
  };
}
