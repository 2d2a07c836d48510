/**
 * Files `chronicle init` writes into an empty folder: a buf workspace whose
 * second module is chronicle/v1/options.proto as shipped in
 * node_modules/@chronicle/codegen/proto, an example event file, a producer and
 * a consumer. Paths are relative to the project folder.
 */
export function projectTemplate(
  name: string,
  versions: { chronicle: string; protobuf: string; buf: string; protocGenEs: string; typescript: string },
): Record<string, string> {
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      generate: "chronicle generate",
      build: "chronicle generate && tsc",
      producer: "node --import tsx src/producer.ts",
      consumer: "node --import tsx src/consumer.ts",
      dev: "chronicle dev",
    },
    dependencies: {
      "@bufbuild/protobuf": versions.protobuf,
      "@chronicle/runtime": versions.chronicle,
    },
    devDependencies: {
      "@bufbuild/buf": versions.buf,
      "@bufbuild/protoc-gen-es": versions.protocGenEs,
      "@chronicle/cli": versions.chronicle,
      "@chronicle/codegen": versions.chronicle,
      "@types/node": "^20.19.0",
      tsx: "^4.20.0",
      typescript: versions.typescript,
    },
  };
  return {
    "package.json": `${JSON.stringify(pkg, null, 2)}\n`,
    "tsconfig.json": `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: ["node"],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
          outDir: "dist",
          rootDir: "src",
        },
        include: ["src"],
      },
      null,
      2,
    )}\n`,
    "buf.yaml": `# buf v2 workspace. The second module is Chronicle's options
# (chronicle/v1/options.proto) as the @chronicle/codegen package ships it, so
# \`import "chronicle/v1/options.proto"\` resolves without a registry.
version: v2
modules:
  - path: proto
  - path: node_modules/@chronicle/codegen/proto
`,
    "buf.gen.yaml": `# \`chronicle generate\` runs \`buf generate\` with this template: protobuf-es
# messages (*_pb.ts) and Chronicle's typed producers and handlers
# (*_chronicle.ts) go to src/gen. chronicle/v1/options_pb.ts is generated
# too, because the generated messages import it.
version: v2
clean: true
plugins:
  - local: protoc-gen-es
    out: src/gen
    strategy: all
    opt: [target=ts, import_extension=js]
  # strategy all: one run sees every file, so a stream may span files
  - local: protoc-gen-chronicle
    out: src/gen
    strategy: all
    opt: [target=ts, import_extension=js]
`,
    ".gitignore": "node_modules/\ndist/\n.chronicle/\n",
    "proto/shop/orders/v1/orders.proto": `syntax = "proto3";

package shop.orders.v1;

import "chronicle/v1/options.proto";

// The orders stream: 8 partitions, events kept 30 days. Every option has a
// default (see Chronicle's docs/sdk.md); declare each stream once.
option (chronicle.v1.stream) = {
  name: "orders"
  partitions: 8
  max_age: "30d"
};

// A customer placed an order.
message OrderPlaced {
  // Events of one order stay in order: they share the key.
  option (chronicle.v1.event) = {
    stream: "orders"
    key: "order_id"
    idempotency_key: "checkout_id"
  };
  string order_id = 1;
  string customer_id = 2;
  int64 total_cents = 3;
  // One checkout places one order, however often the request is retried.
  string checkout_id = 4;
}

// The order left the warehouse.
message OrderShipped {
  option (chronicle.v1.event) = {
    stream: "orders"
    key: "order_id"
  };
  string order_id = 1;
  string carrier = 2;
}
`,
    "src/producer.ts": `// Publishes two events with the generated, typed producer.
// Run "chronicle dev" in another terminal first, then "npm run producer".
import { connect, ensureStream } from "@chronicle/runtime";
import { createOrdersProducer, ordersStream } from "./gen/shop/orders/v1/orders_chronicle.js";

const conn = await connect({ servers: process.env["NATS_URL"] ?? "nats://127.0.0.1:4222" });
await ensureStream(conn, ordersStream);
const orders = createOrdersProducer(conn);
const placed = await orders.publishOrderPlaced({ orderId: "o-1", customerId: "c-1", totalCents: 1999n, checkoutId: "chk-1" });
console.log(\`OrderPlaced stored at sequence \${placed.sequence} (partition \${placed.partition})\`);
await orders.publishOrderShipped({ orderId: "o-1", carrier: "ups" });
await orders.close();
await conn.close();
`,
    "src/consumer.ts": `// Handles every event type of the orders stream in consumer group "billing".
// "chronicle scaffold" adds a stub here when the stream gains an event type.
import { connect } from "@chronicle/runtime";
import { ordersHandlers, startOrdersConsumer } from "./gen/shop/orders/v1/orders_chronicle.js";

const handlers = ordersHandlers({
  async OrderPlaced(event, ctx) {
    console.log(\`order \${event.orderId} placed by \${event.customerId} (attempt \${ctx.attempt})\`);
  },
  async OrderShipped(event) {
    console.log(\`order \${event.orderId} shipped with \${event.carrier}\`);
  },
});

const conn = await connect({ servers: process.env["NATS_URL"] ?? "nats://127.0.0.1:4222" });
const member = await startOrdersConsumer(conn, { group: "billing", handlers });
console.log("consuming orders; Ctrl-C to stop");
process.once("SIGINT", () => {
  void member.stop().then(() => conn.close());
});
`,
  };
}
