// Runs docs/quickstart-tutorial.md: appends the page's OrderCancelled
// message to a copy of the orders proto, generates the SDK with buf and both
// plugins (what `npm run gen` does), then publishes and consumes the new
// event with the generated code. The page quotes the TypeScript below.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, ensureStream, type ChronicleConnection, type ConsumerGroupMember, type EventSchemas, type StreamDefinition } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";

/** The part of the SDK generated from the tutorial's proto that the test uses (typed here: it is generated at test time). */
interface TutorialSdk {
  ordersStream: StreamDefinition<EventSchemas>;
  createOrdersProducer(conn: ChronicleConnection): {
    publishOrderCancelled(event: { orderId: string; reason: string }): Promise<unknown>;
    close(): Promise<unknown>;
  };
  partialOrdersHandlers(handlers: { OrderCancelled(event: { orderId: string; reason: string }): Promise<void> }): object;
  startOrdersConsumer(conn: ChronicleConnection, options: { group: string; handlers: object }): Promise<ConsumerGroupMember>;
}

const root = fileURLToPath(new URL("../../..", import.meta.url));

function protoBlockOfTutorial(): string {
  const page = readFileSync(join(root, "docs/quickstart-tutorial.md"), "utf8");
  const m = /<!-- appended to examples\/orders\/proto\/shop\/orders\/v1\/orders.proto -->\n```proto\n([\s\S]*?)\n```/.exec(page);
  if (!m) throw new Error("docs/quickstart-tutorial.md has no proto block to append");
  return m[1]!;
}

describe("docs/quickstart-tutorial.md", () => {
  it("adds OrderCancelled, generates, publishes and consumes it", { timeout: 90_000 }, async () => {
    mkdirSync(join(root, "node_modules/.cache"), { recursive: true });
    // inside the repository so the generated code resolves @bufbuild/protobuf
    const dir = mkdtempSync(join(root, "node_modules/.cache/chronicle-tutorial-"));
    try {
      mkdirSync(join(dir, "proto/shop/orders/v1"), { recursive: true });
      mkdirSync(join(dir, "schemas/chronicle/v1"), { recursive: true });
      const proto = readFileSync(join(root, "examples/orders/proto/shop/orders/v1/orders.proto"), "utf8");
      writeFileSync(join(dir, "proto/shop/orders/v1/orders.proto"), `${proto}\n${protoBlockOfTutorial()}\n`);
      copyFileSync(join(root, "codegen/proto/chronicle/v1/options.proto"), join(dir, "schemas/chronicle/v1/options.proto"));
      writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: schemas\n");
      const template = readFileSync(join(root, "examples/orders/buf.gen.yaml"), "utf8")
        .replaceAll("examples/orders/src/gen", "gen")
        .replace("codegen/bin/protoc-gen-chronicle.mjs", join(root, "codegen/bin/protoc-gen-chronicle.mjs"));
      writeFileSync(join(dir, "buf.gen.yaml"), template);
      const gen = spawnSync(join(root, "node_modules/.bin/buf"), ["generate"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, PATH: [join(root, "node_modules/.bin"), process.env["PATH"]].join(delimiter) },
      });
      expect(gen.stderr).toBe("");
      expect(gen.status).toBe(0);
      const sdk = (await import(join(dir, "gen/shop/orders/v1/orders_chronicle.ts"))) as TutorialSdk;
      const { createOrdersProducer, partialOrdersHandlers, startOrdersConsumer, ordersStream } = sdk;
      expect(Object.keys(ordersStream.events)).toContain("OrderCancelled");

      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url });
      await ensureStream(conn, ordersStream);
      const cancelled: string[] = [];
      // tutorial: publish
      const orders = createOrdersProducer(conn);
      await orders.publishOrderCancelled({ orderId: "o-1", reason: "customer changed their mind" });
      await orders.close();
      // tutorial: consume
      const member = await startOrdersConsumer(conn, {
        group: "cancellations",
        handlers: partialOrdersHandlers({
          async OrderCancelled(event) {
            cancelled.push(`${event.orderId}: ${event.reason}`);
          },
        }),
      });
      const deadline = Date.now() + 20_000;
      while (cancelled.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await member.stop();
      expect(cancelled).toEqual(["o-1: customer changed their mind"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
