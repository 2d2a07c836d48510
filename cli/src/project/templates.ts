import type { ChroniclePackage } from "./vendor-packages.js";

/** Version specs a new project's package.json uses. */
export interface TemplateVersions {
  /** The project's own Chronicle dependencies: registry ranges (`^0.1.0`), or `file:` paths of vendored tarballs. */
  chronicle: Record<"@chronicle/runtime" | "@chronicle/cli" | "@chronicle/codegen" | "@chronicle/testing", string>;
  /**
   * npm `overrides` for the other Chronicle packages the CLI depends on
   * (`@chronicle/registry`, `@chronicle/outbox`): with vendored tarballs npm
   * must take them from the vendor folder too, not look them up on the registry.
   */
  overrides?: Partial<Record<ChroniclePackage, string>>;
  protobuf: string;
  buf: string;
  protocGenEs: string;
  typescript: string;
}

/**
 * Files `chronicle init` writes into an empty folder: a buf workspace whose
 * second module is chronicle/v1/options.proto as shipped in
 * node_modules/@chronicle/codegen/proto, an example event file, a producer and
 * a consumer. Paths are relative to the project folder.
 */
export function projectTemplate(name: string, versions: TemplateVersions): Record<string, string> {
  const { "@chronicle/runtime": runtime, ...devChronicle } = versions.chronicle;
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      generate: "chronicle generate",
      typecheck: "tsc --noEmit",
      dev: "chronicle dev",
      consumer: "node --import tsx src/consumer.ts",
      producer: "node --import tsx src/producer.ts",
    },
    dependencies: {
      "@bufbuild/protobuf": versions.protobuf,
      "@chronicle/runtime": runtime,
    },
    devDependencies: sortKeys({
      "@bufbuild/buf": versions.buf,
      "@bufbuild/protoc-gen-es": versions.protocGenEs,
      ...devChronicle,
      "@types/node": "^20.19.0",
      tsx: "^4.20.0",
      typescript: versions.typescript,
    }),
    ...(versions.overrides ? { overrides: versions.overrides } : {}),
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
    "src/producer.ts": `// Publishes two events with the generated, typed producer. Start "npm run dev"
// in another terminal first; it prints NATS_URL and CHRONICLE_REGISTRY_URL.
import { connect, ensureStream } from "@chronicle/runtime";
import { createOrdersProducer, ordersStream } from "./gen/shop/orders/v1/orders_chronicle.js";

const servers = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222";
try {
  const conn = await connect({ servers });
  // creates the stream, or applies changed settings; in production "chronicle streams apply" does this at deploy
  await ensureStream(conn, ordersStream);
  // ce-dataschema of each event: the registry's URL for its exact schema
  const orders = createOrdersProducer(conn, { schemaRegistryUrl: process.env["CHRONICLE_REGISTRY_URL"] });
  const placed = await orders.publishOrderPlaced({ orderId: "o-1", customerId: "c-1", totalCents: 1999n, checkoutId: "chk-1" });
  console.log(\`OrderPlaced stored at sequence \${placed.sequence} (partition \${placed.partition})\`);
  const shipped = await orders.publishOrderShipped({ orderId: "o-1", carrier: "ups" });
  console.log(\`OrderShipped stored at sequence \${shipped.sequence} (partition \${shipped.partition})\`);
  await orders.close();
  await conn.close();
} catch (err) {
  // an expected failure (NATS not running, stream settings refused) is one line, not a stack trace
  console.error(\`producer: \${(err as Error).message} (is "npm run dev" running at \${servers}?)\`);
  process.exitCode = 1;
}
`,
    "src/consumer.ts": `// Handles every event type of the orders stream in consumer group "billing".
// "chronicle scaffold" adds a stub here when the stream gains an event type.
import { connect, ensureStream } from "@chronicle/runtime";
import { ordersHandlers, ordersStream, startOrdersConsumer } from "./gen/shop/orders/v1/orders_chronicle.js";

const handlers = ordersHandlers({
  async OrderPlaced(event, ctx) {
    console.log(\`order \${event.orderId} placed by \${event.customerId} (attempt \${ctx.attempt})\`);
  },
  async OrderShipped(event) {
    console.log(\`order \${event.orderId} shipped with \${event.carrier}\`);
  },
});

const servers = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222";
try {
  const conn = await connect({ servers });
  // the consumer may start before any producer: it creates the stream if missing (in production, "chronicle streams apply" at deploy)
  await ensureStream(conn, ordersStream);
  const member = await startOrdersConsumer(conn, {
    group: "billing",
    handlers,
    // failures the member cannot hand to a handler (connection lost, dead-letter publish failed): log and keep going
    onError: (err) => console.error("consumer:", err instanceof Error ? err.message : err),
  });
  console.log("consuming orders; Ctrl-C to stop");
  process.once("SIGINT", () => {
    void member.stop().then(() => conn.close());
  });
} catch (err) {
  console.error(\`consumer: \${(err as Error).message} (is "npm run dev" running at \${servers}?)\`);
  process.exitCode = 1;
}
`,
  };
}

function sortKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
