import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createAuthenticator, loadTokensFile, parseTokens } from "./tokens.js";

const A = "a".repeat(16);
const B = "b:with:colons-0123";

function codeOf(fn: () => unknown): Code | undefined {
  try {
    fn();
  } catch (err) {
    return ConnectError.from(err).code;
  }
  return undefined;
}

describe("tokens", () => {
  it("parses name:role:token lists, tokens may contain colons", () => {
    expect(parseTokens(`ops:admin:${A}, ci:write:${B}\n# comment\n`)).toEqual([
      { name: "ops", role: "admin", token: A },
      { name: "ci", role: "write", token: B },
    ]);
  });

  it("refuses malformed entries without echoing the token", () => {
    for (const bad of [`ops:root:${A}`, "ops:admin:short", `:read:${A}`]) {
      let message = "";
      try {
        parseTokens(bad);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/token entry 1/);
      expect(message).not.toContain(A);
    }
  });

  it("reads JSON and line files", () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-tokens-"));
    try {
      writeFileSync(join(dir, "t.json"), JSON.stringify([{ name: "svc", role: "read", token: A }]));
      writeFileSync(join(dir, "t.txt"), `svc:read:${A}\n`);
      expect(loadTokensFile(join(dir, "t.json"))).toEqual(loadTokensFile(join(dir, "t.txt")));
      writeFileSync(join(dir, "bad.json"), "[{");
      expect(() => loadTokensFile(join(dir, "bad.json"))).toThrow(/not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks roles: read < write < admin; unknown tokens are unauthenticated", () => {
    const auth = createAuthenticator({ tokens: [{ name: "ci", role: "write", token: A }] });
    expect(auth.authorize(`Bearer ${A}`, "read")).toEqual({ name: "ci", role: "write" });
    expect(auth.authorize(`bearer ${A}`, "write").name).toBe("ci");
    expect(codeOf(() => auth.authorize(`Bearer ${A}`, "admin"))).toBe(Code.PermissionDenied);
    expect(codeOf(() => auth.authorize(`Bearer ${A}x`, "read"))).toBe(Code.Unauthenticated);
    expect(codeOf(() => auth.authorize(`Basic ${A}`, "read"))).toBe(Code.Unauthenticated);
    expect(codeOf(() => auth.authorize(null, "read"))).toBe(Code.Unauthenticated);
    const anon = createAuthenticator({ tokens: [], anonymousRead: true });
    expect(anon.authorize(null, "read").name).toBe("anonymous");
    expect(codeOf(() => anon.authorize(null, "write"))).toBe(Code.Unauthenticated);
  });
});
