import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../framework/command.js";
import { readSchemaConfig } from "./config.js";
import { formatGithub, formatText } from "./format.js";
import type { CheckReport } from "./types.js";

const report: CheckReport = {
  against: "git main (abcdef1)",
  compatible: false,
  subjects: [
    {
      subject: "acme.v1.A",
      status: "incompatible",
      mode: "FULL",
      rules: "WIRE",
      violations: [
        {
          rule: "R1",
          message: "50% off,\nnext line",
          path: "acme.v1.A.x",
          location: { file: "/repo/proto/a,b.proto", line: 3, column: 5 },
          against: "git main",
        },
        { rule: "R2", message: "no location", path: "acme.v1.A", against: "git main" },
      ],
    },
    { subject: "acme.v1.B", status: "new", mode: "FULL", rules: "WIRE", violations: [] },
  ],
};

describe("report formats", () => {
  it("escapes GitHub workflow command data and properties, and paths are relative to the base", () => {
    expect(formatGithub(report, "/repo")).toEqual([
      "::error file=proto/a%2Cb.proto,line=3,col=5,title=R1::50%25 off,%0Anext line (acme.v1.A, against git main)",
      "::error title=R2::no location (acme.v1.A, against git main)",
      "INCOMPATIBLE: 2 events checked against git main (abcdef1) (1 incompatible, 1 new)",
    ]);
  });

  it("prints file:line:column lines, absolute when the file is outside the base folder", () => {
    const lines = formatText(report, "/elsewhere");
    expect(lines[0]).toBe("/repo/proto/a,b.proto:3:5: R1: 50% off,\nnext line (against git main)");
    expect(lines[1]).toBe("acme.v1.A: R2: no location (against git main)");
    expect(lines).toContain("  new           acme.v1.B");
  });
});

describe("chronicle.yaml", () => {
  it("reads schema.mode and schema.rules, ignores other sections, and rejects unknown names", () => {
    const dir = mkdtempSync(join(tmpdir(), "chronicle-config-"));
    try {
      expect(readSchemaConfig(dir)).toEqual({ mode: "FULL_TRANSITIVE", rules: "WIRE_JSON" });
      writeFileSync(join(dir, "chronicle.yaml"), "streams:\n  mode: NONE\nschema:\n  mode: backward # lower case is fine\n  rules: 'WIRE'\nother: 1\n");
      expect(readSchemaConfig(dir)).toEqual({ mode: "BACKWARD", rules: "WIRE" });
      writeFileSync(join(dir, "chronicle.yaml"), "schema:\n  mode: SIDEWAYS\n");
      expect(() => readSchemaConfig(dir)).toThrow(UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
