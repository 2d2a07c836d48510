import { JetStreamApiError } from "@nats-io/jetstream";
import {
  AuthorizationError,
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { ChronicleError, ErrorCode } from "./errors.js";
import { codeForJsError, isJetStreamMissing, translateNatsError } from "./nats-error.js";

describe("nats.js errors translated by type", () => {
  it("maps JetStream API errors by err_code, then by status, keeping the code in the context", () => {
    const e = translateNatsError(new JetStreamApiError({ code: 404, err_code: 10059, description: "stream not found" }), "reading stream s", { stream: "s" });
    expect(e).toMatchObject({ code: ErrorCode.NotFound, message: "reading stream s: stream not found", context: { stream: "s", natsErrCode: 10059 } });
    expect(codeForJsError(10071, 400)).toBe(ErrorCode.WrongLastSequence);
    expect(codeForJsError(10054, 400)).toBe(ErrorCode.PayloadTooLarge);
    expect(codeForJsError(10039, 503)).toBe(ErrorCode.Unavailable);
    expect(codeForJsError(undefined, 408)).toBe(ErrorCode.Timeout);
    expect(codeForJsError(undefined, 403)).toBe(ErrorCode.PermissionDenied);
    expect(codeForJsError(99999, 500)).toBe(ErrorCode.Internal);
  });

  it("maps the typed errors nats.js throws, also as the cause of a request's error", () => {
    const cases: [unknown, ErrorCode][] = [
      [new RequestError("no responders", { cause: new NoRespondersError("$JS.API.INFO") }), ErrorCode.NoResponders],
      [new TimeoutError(), ErrorCode.Timeout],
      [new RequestError("timeout", { cause: new TimeoutError() }), ErrorCode.Timeout],
      [new ClosedConnectionError(), ErrorCode.Closed],
      [new DrainingConnectionError(), ErrorCode.Closed],
      [new PermissionViolationError("Permissions Violation for Publish to x", "publish", "x"), ErrorCode.PermissionDenied],
      [new AuthorizationError("Authorization Violation"), ErrorCode.PermissionDenied],
      [new RequestError("connection disconnected"), ErrorCode.Unavailable],
      [InvalidArgumentError.format("payload", "max_payload size exceeded"), ErrorCode.Internal],
      // no guessing from message text
      [new Error("stream not found: timeout, no responders"), ErrorCode.Internal],
    ];
    for (const [err, code] of cases) expect(translateNatsError(err, "op").code, String(err)).toBe(code);
  });

  it("passes a ChronicleError through and says when JetStream is missing", () => {
    const own = new ChronicleError(ErrorCode.Closed, "closed");
    expect(translateNatsError(own, "op")).toBe(own);
    expect(isJetStreamMissing(new Error("jetstream is not enabled", { cause: new RequestError("", { cause: new NoRespondersError("$JS.API.INFO") }) }))).toBe(
      true,
    );
    expect(
      isJetStreamMissing(new Error("x", { cause: new JetStreamApiError({ code: 503, err_code: 10039, description: "jetstream not enabled for account" }) })),
    ).toBe(true);
    expect(isJetStreamMissing(new TimeoutError())).toBe(false);
  });
});
