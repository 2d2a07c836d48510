import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RegistryError, registryErrorCodes, type RegistryErrorReason } from "../service/registry-error.js";
import { StoreUnavailableError } from "../storage/store.js";
import { toConfluentError } from "./confluent-error.js";

describe("Confluent error codes of registry errors", () => {
  it("maps every reason to Confluent's status and error_code, by reason, never by message", () => {
    const expected: Record<RegistryErrorReason, [number, number]> = {
      invalid_subject: [422, 42201],
      invalid_schema: [422, 42201],
      invalid_schema_id: [422, 42205],
      invalid_version: [422, 42202],
      invalid_config: [422, 42203],
      subject_not_found: [404, 40401],
      version_not_found: [404, 40402],
      schema_not_found: [404, 40403],
      incompatible: [409, 409],
      read_only: [422, 42205],
      not_soft_deleted: [404, 40405],
      too_many_writers: [500, 50002],
      storage_unavailable: [500, 50001],
      missing_schema: [500, 50001],
      internal: [500, 50001],
    };
    for (const reason of Object.keys(registryErrorCodes) as RegistryErrorReason[]) {
      const e = toConfluentError(new RegistryError(reason, `a message about ${reason}`));
      expect({ reason, status: e.status, code: e.errorCode, message: e.message }).toEqual({
        reason,
        status: expected[reason][0],
        code: expected[reason][1],
        message: `a message about ${reason}`,
      });
    }
  });

  it("maps refused tokens and foreign failures", () => {
    expect(toConfluentError(new ConnectError("no token", Code.Unauthenticated))).toMatchObject({ status: 401, errorCode: 40101 });
    expect(toConfluentError(new ConnectError("role too low", Code.PermissionDenied))).toMatchObject({ status: 403, errorCode: 40301 });
    expect(toConfluentError(new StoreUnavailableError("nats down"))).toMatchObject({ status: 500, errorCode: 50001 });
    expect(toConfluentError(new Error("boom"))).toMatchObject({ status: 500, errorCode: 50001 });
  });
});
