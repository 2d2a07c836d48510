import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../framework/command.js";
import { readSchemaConfig } from "./config.js";
import { formatGithub, formatJson, formatText } from "./format.js";
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
      "::error file=proto/a%2Cb.proto,line=3,col=5,title=R1::50%25 off,%0Anext line (affects acme.v1.A; against git main)",
      "::error title=R2::no location (affects acme.v1.A; against git main)",
      "INCOMPATIBLE: 2 events checked against git main (abcdef1) (1 incompatible, 1 new)",
    ]);
  });

  it("prints file:line:column lines, absolute when the file is outside the base folder", () => {
    const lines = formatText(report, "/elsewhere");
    expect(lines[0]).toBe("/repo/proto/a,b.proto:3:5: R1: 50% off,\nnext line (affects acme.v1.A; against git main)");
    expect(lines[1]).toBe("acme.v1.A: R2: no location (affects acme.v1.A; against git main)");
    expect(lines).toContain("  new           acme.v1.B");
  });
});

describe("a violation shared by many subjects", () => {
  const shared = {
    rule: "R1",
    message: "Money changed",
    path: "acme.v1.Money.units",
    location: { file: "/repo/money.proto", line: 4, column: 3 },
    against: "git main",
  };
  const subjects = ["acme.v1.A", "acme.v1.B", "acme.v1.C", "acme.v1.D", "acme.v1.E", "acme.v1.F", "acme.v1.G"];
  const many: CheckReport = {
    against: "git main (abcdef1)",
    compatible: false,
    subjects: subjects.map((subject) => ({ subject, status: "incompatible", mode: "FULL", rules: "WIRE", violations: [{ ...shared }] })),
    moduleViolations: [
      {
        rule: "RPC_SAME_REQUEST_TYPE",
        message: "RPC changed",
        path: "acme.v1.Svc.Do",
        location: { file: "/repo/svc.proto", line: 2, column: 1 },
        against: "git main",
      },
    ],
  };

  it("is printed once per place in text and GitHub form, naming the subjects it affects", () => {
    const text = formatText(many, "/repo", "message");
    expect(text.filter((l) => l.includes("Money changed"))).toEqual([
      "money.proto:4:3: R1: Money changed (affects acme.v1.A, acme.v1.B, acme.v1.C, acme.v1.D, acme.v1.E and 2 more; against git main)",
    ]);
    expect(text).toContain("svc.proto:2:1: RPC_SAME_REQUEST_TYPE: RPC changed (against git main)");
    expect(text.at(-1)).toBe("INCOMPATIBLE: 7 messages checked against git main (abcdef1) (7 incompatible, 1 violation outside any message)");
    const github = formatGithub(many, "/repo", "message");
    expect(github.filter((l) => l.includes("Money changed"))).toHaveLength(1);
    expect(github).toHaveLength(3);
  });

  it("is listed once in JSON with every subject, and under each subject too", () => {
    const json = JSON.parse(formatJson(many, "/repo")) as {
      violations: { rule: string; file: string; subjects: string[] }[];
      subjects: { violations: unknown[] }[];
    };
    expect(json.violations).toEqual([
      expect.objectContaining({ rule: "R1", file: "money.proto", subjects }),
      expect.objectContaining({ rule: "RPC_SAME_REQUEST_TYPE", file: "svc.proto", subjects: [] }),
    ]);
    expect(json.subjects.every((s) => s.violations.length === 1)).toBe(true);
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
