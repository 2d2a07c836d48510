import { describe, expect, it } from "vitest";
import { Headers, PARTITION_KEY_ENCODING, headerSafe, partitionKeyHeaders, readPartitionKey } from "./headers.js";

describe("partition key headers", () => {
  it.each(["order-1", "a.b c", "héllo", "*>", " lead", "trail ", "line\nbreak", "cr\rlf", "", "100%"])("round-trips %j", (key) => {
    const h = partitionKeyHeaders(key);
    expect(readPartitionKey(h)).toBe(key);
    for (const v of Object.values(h)) expect(headerSafe(v)).toBe(true);
    expect(h[PARTITION_KEY_ENCODING] !== undefined).toBe(!headerSafe(key));
  });

  it("is undefined when the header is missing or its encoding unknown or broken", () => {
    expect(readPartitionKey({})).toBeUndefined();
    expect(readPartitionKey({ [Headers.PartitionKey]: "k", [PARTITION_KEY_ENCODING]: "rot13" })).toBeUndefined();
    expect(readPartitionKey({ [Headers.PartitionKey]: "%E0%A4%A", [PARTITION_KEY_ENCODING]: "uri" })).toBeUndefined();
  });
});
