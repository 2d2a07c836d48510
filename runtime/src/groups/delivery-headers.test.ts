import { headers as natsHeaders, type Msg } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { DeliveryHeaders, headersOf, parseHeaderText } from "./delivery-headers.js";
import { headerBlockText, internalsEnabled } from "./nats-internals.js";

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("reading a header block", () => {
  const text =
    "NATS/1.0 100 Idle Heartbeat\r\nce-id: a:b: c \r\nX-Dup: 1\r\nX-Dup: 2\r\nno colon here\r\n: empty name\r\nEmpty:\r\nTight:v\r\nxce-id: no\r\n\r\n";
  it("reads the first value of each name, names as sent, values trimmed; a status line and malformed lines are skipped", () => {
    expect(parseHeaderText(text)).toEqual({ "ce-id": "a:b: c", "X-Dup": "1", Empty: "", Tight: "v", "xce-id": "no" });
    expect(parseHeaderText("NATS/1.0\r\n\r\n")).toEqual({});
  });
  it("finds one header without parsing the others, with the same answers", () => {
    const h = new DeliveryHeaders(text);
    expect([h.get("ce-id"), h.get("X-Dup"), h.get("Empty"), h.get("Tight"), h.get("xce-id"), h.get("missing"), h.get("NATS/1.0 100 Idle Heartbeat")]).toEqual([
      "a:b: c",
      "1",
      "",
      "v",
      "no",
      undefined,
      undefined,
    ]);
    expect(h.all()).toEqual(parseHeaderText(text));
  });
});

describe("headers of a delivered message", () => {
  it("reads the same from the header block's bytes as from nats.js's decoded headers (the public-API path)", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const got: Msg[] = [];
    const sub = conn.nc.subscribe("hdr.>", { callback: (_e, m) => void got.push(m) });
    const h = natsHeaders();
    h.set("ce-id", "id-1");
    h.append("X-Twice", "first");
    h.append("X-Twice", "second");
    conn.nc.publish("hdr.a", encoder.encode("with"), { headers: h });
    conn.nc.publish("hdr.b", encoder.encode("without"));
    await conn.nc.flush();
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await sleep(10);
    sub.unsubscribe();
    const [withHeaders, without] = got as [Msg, Msg];
    const text = headerBlockText(withHeaders);
    expect(text === undefined).toBe(!internalsEnabled);
    const fast = headersOf(withHeaders);
    expect([fast.get("ce-id"), fast.get("X-Twice"), fast.get("missing")]).toEqual(["id-1", "first", undefined]);
    // the public path: what nats.js decoded
    const record: Record<string, string> = {};
    for (const k of withHeaders.headers!.keys()) record[k] = withHeaders.headers!.get(k);
    expect(fast.all()).toEqual(record);
    expect(headersOf(without).all()).toEqual({});
    // once nats.js decoded the headers itself, the public path is taken
    expect(headerBlockText(withHeaders)).toBeUndefined();
    expect(headersOf(withHeaders).all()).toEqual(record);
  });
});
