// The wire's contract: every operation behaves the same in both
// implementations, against a real server.
import { ClosedConnectionError, headers as natsHeaders, InvalidArgumentError, type Msg } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, type ChronicleConnection } from "../index.js";
import { HeaderText } from "./header-text.js";
import { createWire, resolveWireKind, wireOf } from "./select-wire.js";
import { WIRE_ENV, type HeadedMessage, type ReplyInbox, type Wire, type WireKind } from "./types.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const KINDS: WireKind[] = ["internal", "public"];

/** A message laid out as the producer lays it out: room, header block, payload, CR LF (or a separate large payload). */
function laidOut(wire: Wire, inbox: ReplyInbox, subject: string, headerLines: string, payload: Uint8Array, large = false): HeadedMessage {
  const target = wire.target(subject);
  const room = wire.headRoom(target, inbox);
  const block = enc.encode(`NATS/1.0\r\n${headerLines}\r\n`);
  const slab = new Uint8Array(room + block.length + (large ? 0 : payload.length + 2));
  slab.set(block, room);
  const headerEnd = room + block.length;
  if (!large) {
    slab.set(payload, headerEnd);
    slab.set([13, 10], headerEnd + payload.length);
  }
  return { target, slab, headerStart: room, headerEnd, payloadEnd: large ? headerEnd : headerEnd + payload.length, large: large ? payload : undefined };
}

/** An inbox whose replies are collected by token. */
function collectingInbox(wire: Wire): { inbox: ReplyInbox; replies: Map<number, Msg>; errors: Error[] } {
  const replies = new Map<number, Msg>();
  const errors: Error[] = [];
  const inbox = wire.openInbox({ reply: (token, msg) => void replies.set(token, msg), error: (err) => void errors.push(err) });
  return { inbox, replies, errors };
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("choosing a wire", () => {
  it("takes the option, else CHRONICLE_WIRE, else internal, and refuses anything else", () => {
    expect(resolveWireKind("public")).toBe("public");
    expect(resolveWireKind("internal")).toBe("internal");
    expect(resolveWireKind("")).toBe("internal");
    expect(() => resolveWireKind("fast")).toThrow(/wire must be "internal" or "public", got "fast"/);
    const saved = process.env[WIRE_ENV];
    try {
      process.env[WIRE_ENV] = "public";
      expect(resolveWireKind()).toBe("public");
      delete process.env[WIRE_ENV];
      expect(resolveWireKind()).toBe("internal");
    } finally {
      if (saved === undefined) delete process.env[WIRE_ENV];
      else process.env[WIRE_ENV] = saved;
    }
  });

  it("is the public one when nats.js's protocol handler is not there, and the one connect made otherwise", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url, wire: "internal" });
    expect(wireOf(conn).kind).toBe("internal");
    const hidden = new Proxy(conn.nc, { get: (target, prop) => (prop === "protocol" ? undefined : Reflect.get(target, prop)) });
    expect(createWire(hidden, { kind: "internal" }).kind).toBe("public");
    await expect(connect({ servers: server.url, wire: "fast" as WireKind })).rejects.toThrow(/wire must be/);
  });
});

for (const kind of KINDS) {
  describe(`the ${kind} wire`, () => {
    it("publishes laid-out messages with their reply tokens, first sends and resends, small and large payloads alike", async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url, wire: kind });
      const wire = wireOf(conn);
      await conn.jsm.streams.add({ name: "pub", subjects: ["pub.>"], duplicate_window: 60_000_000_000 });
      const { inbox, replies, errors } = collectingInbox(wire);
      const big = new Uint8Array(5000).fill(5);
      const messages = [
        laidOut(wire, inbox, "pub.a", "Nats-Msg-Id: m1\r\nx: 日本\r\nx: again\r\n", enc.encode("small")),
        laidOut(wire, inbox, "pub.b", "Nats-Msg-Id: m2\r\n", big, true),
      ];
      wire.publishHeaded(messages[0]!, inbox, 7, true);
      wire.publishHeaded(messages[1]!, inbox, 8, true);
      // resends: new tokens, the same bytes (deduplicated by Nats-Msg-Id)
      wire.publishHeaded(messages[0]!, inbox, 1234567890123, false);
      wire.publishHeaded(messages[1]!, inbox, 10, false);
      await until(() => replies.size === 4, "four acks");
      expect(errors).toEqual([]);
      const acks = [7, 8, 1234567890123, 10].map((t) => JSON.parse(dec.decode(replies.get(t)!.data)) as { seq: number; duplicate?: boolean });
      expect(acks.map((a) => [a.seq, a.duplicate === true])).toEqual([
        [1, false],
        [2, false],
        [1, true],
        [2, true],
      ]);
      const first = (await conn.jsm.streams.getMessage("pub", { seq: 1 }))!;
      expect(first.header.values("x")).toEqual(["日本", "again"]);
      expect(dec.decode(first.data)).toBe("small");
      expect((await conn.jsm.streams.getMessage("pub", { seq: 2 }))!.data).toEqual(big);
      inbox.close();
    });

    it("throws what nc.publish throws: max_payload exceeded, a closed connection", async () => {
      await using server = await startLocalServer({ maxPayload: 1024 });
      const conn = await connect({ servers: server.url, wire: kind });
      const wire = wireOf(conn);
      const { inbox } = collectingInbox(wire);
      expect(() => wire.publishHeaded(laidOut(wire, inbox, "big.one", "k: v\r\n", new Uint8Array(2000)), inbox, 1, true)).toThrow(InvalidArgumentError);
      await conn.close();
      expect(() => wire.publishHeaded(laidOut(wire, inbox, "late.one", "k: v\r\n", new Uint8Array(1)), inbox, 2, true)).toThrow(ClosedConnectionError);
    });

    it("publishes text messages together and reports the ones it cannot send", async () => {
      await using server = await startLocalServer({ maxPayload: 1024 });
      const conn = await connect({ servers: server.url, wire: kind });
      const wire = wireOf(conn);
      await conn.jsm.streams.add({ name: "txt", subjects: ["txt.>"] });
      const { inbox, replies } = collectingInbox(wire);
      const failed: number[] = [];
      wire.publishText(
        [
          { subject: "txt.a", reply: `${inbox.subject}.1`, payload: "\u0001" },
          { subject: "txt.b", reply: `${inbox.subject}.2`, payload: "x".repeat(2000) },
          { subject: "txt.c", reply: "", payload: "héllo" },
          { subject: "txt.d", reply: `${inbox.subject}.4`, payload: "{}" },
        ],
        (i) => void failed.push(i),
      );
      expect(failed).toEqual([1]);
      await until(() => replies.size === 2, "two acks");
      const stored = await conn.jsm.streams.info("txt");
      expect(stored.state.messages).toBe(3);
      expect(dec.decode((await conn.jsm.streams.getMessage("txt", { seq: 2 }))!.data)).toBe("héllo");
      await conn.close();
      wire.publishText([{ subject: "txt.e", reply: "", payload: "x" }], (i, err) => {
        failed.push(i);
        expect(err).toBeInstanceOf(ClosedConnectionError);
      });
      expect(failed).toEqual([1, 0]);
    });

    it("reads a received message's headers as nats.js would: the first value of each name, names as sent, none for a bare message", async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url, wire: kind });
      const wire = wireOf(conn);
      const got: Msg[] = [];
      const sub = conn.nc.subscribe("hdr.>", { callback: (_e, m) => void got.push(m) });
      const h = natsHeaders();
      h.set("ce-id", "id-1");
      h.append("X-Twice", "first");
      h.append("X-Twice", "second");
      conn.nc.publish("hdr.a", enc.encode("with"), { headers: h });
      conn.nc.publish("hdr.b", enc.encode("without"));
      await until(() => got.length === 2, "2 messages");
      sub.unsubscribe();
      const [withHeaders, without] = got as [Msg, Msg];
      const read = wire.headers(withHeaders);
      expect(read).toBeInstanceOf(HeaderText);
      expect([read.get("ce-id"), read.get("X-Twice"), read.get("missing")]).toEqual(["id-1", "first", undefined]);
      expect(wire.headers(without).all()).toEqual({});
      // nats.js's own decoding, read after: the same record, and the same answers once nats.js has decoded them
      const record: Record<string, string> = {};
      for (const k of withHeaders.headers!.keys()) record[k] = withHeaders.headers!.get(k);
      expect(read.all()).toEqual(record);
      expect(wire.headers(withHeaders).all()).toEqual(record);
    });
  });
}
