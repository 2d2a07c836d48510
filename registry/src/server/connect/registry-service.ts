import { create } from "@bufbuild/protobuf";
import { ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Violation } from "../../compat/types.js";
import {
  CompatibilityViolationsSchema,
  GetConfigResponseSchema,
  SubjectVersionSchema,
  ViolationSchema,
  type GetConfigResponse,
  type RegistryService,
  type SubjectVersion,
  type Violation as WireViolation,
} from "../../gen/chronicle/registry/v1/registry_pb.js";
import { categoryName, categoryValue, modeName, modeValue } from "../../service/modes.js";
import type { Registry } from "../../service/registry.js";
import { IncompatibleSchemaError, RegistryError, toConnectError } from "../../service/registry-error.js";
import type { RegisteredVersion } from "../../service/registry-reads.js";
import type { EffectiveConfig } from "../../service/settings.js";

function toWireViolation(v: Violation): WireViolation {
  return create(ViolationSchema, {
    rule: v.rule,
    message: v.message,
    path: v.path,
    ...(v.location ? { location: { file: v.location.file, line: v.location.line, column: v.location.column } } : {}),
    againstVersion: v.againstVersion ?? 0,
  });
}

/** The wire form of a version. @private */
export function toSubjectVersion(v: RegisteredVersion): SubjectVersion {
  return create(SubjectVersionSchema, v);
}

function toConfigResponse(c: EffectiveConfig): GetConfigResponse {
  return create(GetConfigResponseSchema, {
    subject: c.subject,
    mode: modeValue(c.mode),
    category: categoryValue(c.category),
    inherited: c.inherited,
    readOnly: c.readOnly,
  });
}

/** The Connect form of a registry error: a refused schema carries its violations as a CompatibilityViolations detail. */
function toWireError(err: unknown): ConnectError {
  if (!(err instanceof IncompatibleSchemaError)) return toConnectError(err);
  const detail = {
    desc: CompatibilityViolationsSchema,
    value: { subject: err.subject, mode: modeValue(err.mode), category: categoryValue(err.category), violations: err.violations.map(toWireViolation) },
  };
  return new ConnectError(err.rawMessage, err.code, undefined, [detail], err);
}

/**
 * Implements `chronicle.registry.v1.RegistryService` over a {@link Registry}:
 * wire messages and enums in and out, errors as ConnectErrors with the code
 * that fits (invalid_argument for bad input, not_found, failed_precondition
 * for an incompatible schema, with a `CompatibilityViolations` detail, or a
 * write to a read-only registry, unavailable when the store cannot be
 * reached). Holds no state of its own.
 */
export function createRegistryService(registry: Registry): ServiceImpl<typeof RegistryService> {
  const impl: ServiceImpl<typeof RegistryService> = {
    register: (req) => registry.register(req.subject, req.schema),
    getSchema: (req) => ({ id: req.id, schema: registry.getSchema(req.id) }),
    getVersion: (req) => ({ version: toSubjectVersion(registry.getVersion(req.subject, req.version, { includeDeleted: req.includeDeleted })) }),
    getLatestVersion: (req) => ({ version: toSubjectVersion(registry.getLatestVersion(req.subject)) }),
    listSubjects: (req) => ({ subjects: registry.listSubjects({ includeDeleted: req.includeDeleted }) }),
    listVersions: (req) => ({ versions: registry.listVersions(req.subject, { includeDeleted: req.includeDeleted }) }),
    checkCompatibility: (req) => {
      const r = registry.checkCompatibility(req.subject, req.schema);
      return {
        compatible: r.compatible,
        violations: r.violations.map(toWireViolation),
        mode: modeValue(r.config.mode),
        category: categoryValue(r.config.category),
        ...(req.verbose ? { id: r.id, checkedVersions: r.checkedVersions, existingVersion: r.existingVersion } : {}),
      };
    },
    getConfig: (req) => toConfigResponse(registry.getConfig(req.subject)),
    setConfig: async (req) => {
      const mode = modeName(req.mode);
      const category = categoryName(req.category);
      if (req.mode !== 0 && !mode) throw new RegistryError("invalid_config", `unknown compatibility mode ${req.mode}`);
      if (req.category !== 0 && !category) throw new RegistryError("invalid_config", `unknown rule category ${req.category}`);
      const config = await registry.setConfig({ subject: req.subject, mode, category, readOnly: req.readOnly, clear: req.clear });
      return { config: toConfigResponse(config) };
    },
    deleteVersion: async (req) => {
      await registry.deleteVersion(req.subject, req.version, { permanent: req.permanent });
      return { version: req.version };
    },
    deleteSubject: async (req) => ({ versions: await registry.deleteSubject(req.subject, { permanent: req.permanent }) }),
  };
  // every handler answers with a ConnectError, never a foreign error
  const guarded: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl) as [string, (req: unknown, ctx: unknown) => unknown][]) {
    guarded[name] = async (req: unknown, ctx: unknown) => {
      try {
        return await fn(req, ctx);
      } catch (err) {
        throw toWireError(err);
      }
    };
  }
  return guarded as ServiceImpl<typeof RegistryService>;
}
