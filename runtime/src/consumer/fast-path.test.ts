import type { JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { connect } from "../index.js";
import { startLocalServer } from "@chronicle/testing";
import { frameSinkOf } from "../frame-sink.js";
import { AckBatch } from "./ack-batch.js";
import { DeliveryHeaders, parseHeaderText } from "./delivery-headers.js";
import { parseDeliveryHeadersOnce } from "./fast-headers.js";
import { readHeaders } from "./read-headers.js";

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

describe("deliveries of a pinned consumer", () => {
  it("are read through one parse of their headers, keep the pin over many pulls, and full headers stay available", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await conn.jsm.streams.add({ name: "fast", subjects: ["fast.>"] });
    for (let i = 0; i < 300; i++) {
      const h = natsHeaders();
      h.set("ce-id", `id-${i}`);
      h.append("X-Twice", "first");
      h.append("X-Twice", "second");
      await conn.js.publish(`fast.${i % 3}`, encoder.encode(String(i)), { headers: h });
    }
    await conn.jsm.consumers.add("fast", {
      durable_name: "pinned",
      ack_policy: "explicit",
      priority_groups: ["g"],
      priority_policy: "pinned_client",
      priority_timeout: 30_000_000_000,
    } as never);
    const consumer = await conn.js.consumers.get("fast", "pinned");
    const seen: { id: string | undefined; twice: string | undefined; decodedByNats: boolean; all: string[] }[] = [];
    const acks = new AckBatch(conn.nc);
    let wrapped = false;
    const messages = await consumer.consume({
      max_messages: 50,
      group: "g",
      callback: (m: JsMsg) => {
        const inner = (m as unknown as { msg: { _headers?: unknown } }).msg;
        const decodedByNats = inner._headers !== undefined;
        const h = readHeaders(m);
        // what dead-lettering does: every value of every header, through nats.js's own API
        const all = m.headers ? [...m.headers.keys()].flatMap((k) => m.headers!.values(k)) : [];
        seen.push({ id: h.get("ce-id"), twice: h.get("X-Twice"), decodedByNats, all });
        acks.ack(m);
      },
    } as never);
    wrapped = parseDeliveryHeadersOnce(messages);
    const deadline = Date.now() + 10_000;
    while (seen.length < 300 && Date.now() < deadline) await sleep(20);
    messages.stop();

    expect(wrapped).toBe(true);
    expect(seen).toHaveLength(300); // six pulls of 50: the pin read from the parsed headers was sent back each time
    expect(seen.map((s) => s.id)).toEqual(Array.from({ length: 300 }, (_, i) => `id-${i}`));
    expect(seen.every((s) => s.twice === "first" && !s.decodedByNats)).toBe(true);
    expect(seen[0]!.all).toEqual(expect.arrayContaining([`id-0`, "first", "second"]));
    expect(seen[0]!.all.some((v) => v.length > 0 && v !== "id-0" && v !== "first" && v !== "second")).toBe(true); // Nats-Pin-Id
    await sleep(200);
    const info = await conn.jsm.consumers.info("fast", "pinned");
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(300);
  });
});

describe("AckBatch", () => {
  it("acks a turn's messages as frames written together, once: a later ack, nak or term of the same message sends nothing", { timeout: 30_000 }, async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await conn.jsm.streams.add({ name: "acks", subjects: ["acks.>"] });
    for (let i = 0; i < 20; i++) await conn.js.publish(`acks.${i}`, encoder.encode(String(i)));
    await conn.jsm.consumers.add("acks", { durable_name: "c", ack_policy: "explicit", ack_wait: 1_000_000_000 } as never);
    const consumer = await conn.js.consumers.get("acks", "c");
    const batch = await consumer.fetch({ max_messages: 20, expires: 2000 });
    const got: JsMsg[] = [];
    for await (const m of batch) got.push(m);
    expect(got).toHaveLength(20);

    const sink = frameSinkOf(conn.nc)!;
    expect(sink).toBeDefined();
    const acks = new AckBatch(conn.nc);
    const before = sink.outMsgs;
    const writes: number[] = [];
    const send = sink.sendCommand.bind(sink);
    sink.sendCommand = (cmd, ...rest) => {
      writes.push(cmd.length);
      send(cmd, ...rest);
    };
    for (const m of got) acks.ack(m);
    acks.ack(got[0]!); // the same message twice in a turn: one ack
    await new Promise((r) => setImmediate(r));
    sink.sendCommand = send;
    expect(writes).toHaveLength(1); // one buffer for the turn's 20 acks
    expect(sink.outMsgs - before).toBe(20);
    for (const m of got) m.nak(); // acked already: nats.js sends nothing more
    expect(sink.outMsgs - before).toBe(20);
    await sleep(1500); // past ack_wait: nothing comes back
    const info = await conn.jsm.consumers.info("acks", "c");
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(20);
  });
});
