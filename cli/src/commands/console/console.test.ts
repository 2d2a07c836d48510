import { tmpdir } from "node:os";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { runCli } from "../../framework/run-cli.js";
import { compileWithBuf } from "./start-console.js";
import { rootCommand } from "../root.js";

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await runCli(rootCommand, argv, "0.0.0", { stdout: () => {}, stderr: (l) => err.push(l), cwd: process.cwd() });
  return { code, err: err.join("\n") };
}

describe("chronicle console", () => {
  it("refuses to start without tokens, with half an HTTPS pair or a registry URL that is not http(s)", async () => {
    const env = process.env["CHRONICLE_CONSOLE_TOKENS"];
    delete process.env["CHRONICLE_CONSOLE_TOKENS"];
    try {
      expect(await run("console")).toEqual({
        code: 2,
        err: expect.stringContaining("no console tokens: pass --tokens FILE or set $CHRONICLE_CONSOLE_TOKENS") as unknown as string,
      });
      expect((await run("console", "--anonymous-read", "--https-cert", "c.pem")).err).toContain("--https-cert and --https-key go together");
      expect((await run("console", "--anonymous-read", "--registry", "ftp://x")).err).toContain("--registry must be an http:// or https:// URL");
      expect((await run("console", "--anonymous-read", "--port", "70000")).err).toContain("--port must be an integer from 0 to 65535");
      expect(await run("console", "--anonymous-read", "--servers", "nats://127.0.0.1:1")).toEqual({
        code: 2,
        err: expect.stringMatching(/cannot connect to NATS/) as unknown as string,
      });
    } finally {
      if (env !== undefined) process.env["CHRONICLE_CONSOLE_TOKENS"] = env;
    }
  });

  it("compiles pasted .proto files with buf, Chronicle's options importable, and says why when they do not compile", async () => {
    const set = await compileWithBuf([
      {
        name: "acme/shop/v1/orders.proto",
        content:
          'syntax = "proto3";\npackage acme.shop.v1;\nimport "chronicle/v1/options.proto";\nimport "google/protobuf/timestamp.proto";\nmessage OrderPlaced { string order_id = 1; google.protobuf.Timestamp at = 2; }\n',
      },
    ]);
    expect(set.file.map((f) => f.name)).toEqual(expect.arrayContaining(["acme/shop/v1/orders.proto", "google/protobuf/timestamp.proto"]));
    const err = await compileWithBuf([{ name: "bad.proto", content: 'syntax = "proto3";\nmessage X { strin y = 1; }\n' }]).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/^the \.proto files do not compile:\nbad\.proto:2:/);
    expect(err?.rawMessage).not.toContain(tmpdir());
  });
});
