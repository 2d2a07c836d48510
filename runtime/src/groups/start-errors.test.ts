import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { ChronicleError, ErrorCode } from "../errors.js";
import { startConsumerGroup } from "./start-consumer-group.js";
import { noteStream } from "./testing/test-stream.js";

const handlers = { Note: async () => undefined };

describe("startConsumerGroup errors", () => {
  it("a bound on work in flight that would let no event start is invalid_argument, naming the option", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    for (const [option, value] of [
      ["maxConcurrency", 0],
      ["maxUnrecorded", 0],
      ["maxUnrecorded", 2.5],
      ["maxConcurrency", -1],
    ] as const) {
      const err = await startConsumerGroup(conn, noteStream("bounds", 4), { group: "g", handlers, [option]: value }).catch((e: unknown) => e);
      expect(err, `${option}: ${value}`).toBeInstanceOf(ChronicleError);
      expect((err as ChronicleError).code).toBe(ErrorCode.InvalidArgument);
      expect((err as ChronicleError).message).toBe(`${option} must be a whole number of at least 1, got ${value}`);
      expect((err as ChronicleError).context).toMatchObject({ option });
    }
  });

  it("a stream the server does not have is not_found, saying to provision it first", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const err = await startConsumerGroup(conn, noteStream("missing", 4), { group: "g", handlers }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChronicleError);
    expect((err as ChronicleError).code).toBe(ErrorCode.NotFound);
    expect((err as ChronicleError).message).toContain("stream missing does not exist: provision it first");
  });

  it("a stream the member may not read is its own error, not 'does not exist'", { timeout: 30_000 }, async () => {
    // The user may reach JetStream (connect() checks $JS.API.INFO) but not the stream's info:
    // the failure must keep its cause (permissions, or a timeout as during an election).
    await using server = await startLocalServer({
      extraConfig: `authorization { users: [ { user: "svc", password: "svc-pass-123", permissions: {
        publish: { allow: ["$JS.API.INFO", "_INBOX.>"] }, subscribe: { allow: ["_INBOX.>"] } } } ] }`,
    });
    await using conn = await connect({ servers: server.url, user: "svc", pass: "svc-pass-123", timeoutMs: 2000 });
    const err = await startConsumerGroup(conn, noteStream("orders", 4), { group: "g", handlers }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChronicleError);
    expect((err as ChronicleError).code).not.toBe(ErrorCode.NotFound);
    expect([ErrorCode.PermissionDenied, ErrorCode.Timeout]).toContain((err as ChronicleError).code);
    expect((err as ChronicleError).message).toContain("cannot read stream orders");
    expect((err as ChronicleError).message).not.toContain("provision it first");
  });
});
