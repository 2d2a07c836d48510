import { describe, expect, it } from "vitest";
import { buildEventModel } from "@chronicle/codegen";
import { compileProtos } from "../../../codegen/src/testing/compile-protos.js";
import { addHandlerStubs } from "./add-handler-stubs.js";

const { streams } = buildEventModel(
  compileProtos({
    "acme/v1/orders.proto": `syntax = "proto3";
package acme.v1;
import "chronicle/v1/options.proto";
message OrderPlaced { option (chronicle.v1.event) = { stream: "orders", key: "id" }; string id = 1; }
message OrderShipped { option (chronicle.v1.event) = { stream: "orders", key: "id" }; string id = 1; }
message OrderCancelled { option (chronicle.v1.event) = { stream: "orders", key: "id" }; string id = 1; }
`,
  }).files,
);

const consumer = `import { ordersHandlers, partialOrdersHandlers } from "./gen/acme/v1/orders_chronicle.js";

// my handlers, formatted my way
export const handlers = ordersHandlers({
    async OrderPlaced(event) {
        await   save(event.id)  ;   // odd spacing stays
    },
});

export const some = partialOrdersHandlers({ async OrderPlaced() {} });

async function save(id: string) { return id }
`;

describe("addHandlerStubs", () => {
  it("adds stubs for missing events after the last handler, touching nothing else", () => {
    const { text, added } = addHandlerStubs("consumer.ts", consumer, streams);
    expect(added.map((a) => [a.helper, a.event])).toEqual([
      ["ordersHandlers", "OrderShipped"],
      ["ordersHandlers", "OrderCancelled"],
    ]);
    const [before, after] = text.split("    async OrderShipped(event, ctx) {");
    expect(consumer.startsWith(before!)).toBe(true);
    expect(after).toContain("    async OrderCancelled(event, ctx) {");
    expect(text.replace(/\n    async Order(Shipped|Cancelled)\(event, ctx\) \{\n.*\n.*\n    \},/g, "")).toBe(consumer);
    expect(added[0]!.line).toBe(text.split("\n").findIndex((l) => l.includes("async OrderShipped")) + 1);
  });

  it("changes nothing on a second run", () => {
    const once = addHandlerStubs("consumer.ts", consumer, streams).text;
    const twice = addHandlerStubs("consumer.ts", once, streams);
    expect(twice.added).toEqual([]);
    expect(twice.text).toBe(once);
  });

  it.each([
    ["no trailing comma", "ordersHandlers({ async OrderPlaced() {}, async OrderShipped() {}, async OrderCancelled() {} })", 0],
    ["an empty literal", "const h = ordersHandlers({});", 3],
    ["a property assignment and a quoted name", `const h = ordersHandlers({\n  OrderPlaced: async () => {},\n  "OrderShipped": onShipped\n});`, 1],
  ])("handles %s", (_name, source, count) => {
    const { text, added } = addHandlerStubs("c.ts", source, streams);
    expect(added).toHaveLength(count);
    expect(addHandlerStubs("c.ts", text, streams).text).toBe(text);
    if (count) expect(text).toMatch(/async OrderCancelled\(event, ctx\) \{/);
  });

  it("leaves partial handlers alone", () => {
    const source = "partialOrdersHandlers({})";
    expect(addHandlerStubs("c.ts", source, streams).text).toBe(source);
  });
});
