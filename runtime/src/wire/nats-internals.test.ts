// The contract of every nats.js internal the internal wire relies on, one
// test per accessor of nats-internals.ts, against the installed nats.js and
// a real server. A nats.js upgrade that moves or changes one fails here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders, type Msg } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, type ChronicleConnection } from "../index.js";
import {
  ackedFlagOf,
  coreMsgOf,
  decodedHeadersOf,
  hasRawReply,
  inboxPrefixOf,
  NATS_JS_VERSION,
  protocolOf,
  rawBytesOf,
  rawSubjectOf,
  replyOf,
  setAckedFlag,
  setDecodedHeaders,
  subscriptionOf,
  utf8Slice,
} from "./nats-internals.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const requireHere = createRequire(import.meta.url);

/** The version of an installed package (whose package.json it does not export): read from the folder its entry resolves into. */
function installedVersion(pkg: string): string {
  for (let dir = dirname(requireHere.resolve(pkg)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version: string };
      if (manifest.name === pkg) return manifest.version;
    } catch {
      // no package.json here: one folder up
    }
  }
  throw new Error(`no package.json of ${pkg}`);
}

/** The next message on `subject`, with what `send` publishes. */
async function nextMessage(conn: ChronicleConnection, subject: string, send: () => void): Promise<Msg> {
  const sub = conn.nc.subscribe(subject, { max: 1 });
  send();
  for await (const m of sub) return m;
  throw new Error("no message");
}

/** Fetches `count` deliveries of a fresh stream of that many messages with headers. */
async function deliveries(conn: ChronicleConnection, stream: string, count: number): Promise<JsMsg[]> {
  await conn.jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  for (let i = 0; i < count; i++) {
    const h = natsHeaders();
    h.set("ce-id", `id-${i}`);
    await conn.js.publish(`${stream}.${i}`, enc.encode(`m${i}`), { headers: h });
  }
  await conn.jsm.consumers.add(stream, { durable_name: "c", ack_policy: "explicit" } as never);
  const batch = await (await conn.js.consumers.get(stream, "c")).fetch({ max_messages: count, expires: 5000 });
  const out: JsMsg[] = [];
  for await (const m of batch) out.push(m);
  return out;
}

async function ackPending(conn: ChronicleConnection, stream: string): Promise<number> {
  return (await conn.jsm.consumers.info(stream, "c")).num_ack_pending;
}

describe("nats.js internals the internal wire uses", () => {
  it(`were read from nats.js ${NATS_JS_VERSION}, the version installed`, () => {
    for (const pkg of ["@nats-io/nats-core", "@nats-io/transport-node", "@nats-io/jetstream"]) {
      const version = installedVersion(pkg);
      expect(version, `${pkg}: re-check every internal in nats-internals.ts, then update NATS_JS_VERSION`).toBe(NATS_JS_VERSION);
    }
  });

  it("protocol handler: sendCommand sends a frame, the counters are nc.stats(), noMorePublishing is set by a drain", async () => {
    await using server = await startLocalServer({ maxPayload: 64 * 1024 });
    const conn = await connect({ servers: server.url });
    const p = protocolOf(conn.nc)!;
    expect(p).toBeDefined();
    expect(p.info).toMatchObject({ headers: true, max_payload: 64 * 1024 });
    const block = "NATS/1.0\r\nk: v\r\n\r\n";
    const msg = await nextMessage(conn, "frames.one", () => {
      p.sendCommand(enc.encode(`HPUB frames.one ${block.length} ${block.length + 3}\r\n${block}abc\r\n`));
    });
    expect(msg.headers?.get("k")).toBe("v");
    expect(dec.decode(msg.data)).toBe("abc");
    const before = conn.nc.stats();
    conn.nc.publish("frames.two", enc.encode("12345"));
    expect(conn.nc.stats().outMsgs - before.outMsgs).toBe(1);
    expect(conn.nc.stats().outBytes - before.outBytes).toBe(5);
    expect(p.noMorePublishing).toBe(false);
    await conn.nc.drain();
    expect(p.noMorePublishing).toBe(true);
  });

  it("connection options: the inbox prefix the application chose", async () => {
    await using server = await startLocalServer();
    await using custom = await connect({ servers: server.url, inboxPrefix: "_MINE" });
    await using plain = await connect({ servers: server.url });
    expect(inboxPrefixOf(custom.nc)).toBe("_MINE");
    expect(inboxPrefixOf(plain.nc)).toBeUndefined();
  });

  it("core message: the subject's bytes, the header block's bytes and length, whether a reply is there", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const h = natsHeaders();
    h.set("a", "1");
    h.append("a", "2");
    const msg = await nextMessage(conn, "raw.日本", () => conn.nc.publish("raw.日本", enc.encode("body"), { headers: h, reply: "r.1" }));
    expect(dec.decode(rawSubjectOf(msg))).toBe("raw.日本");
    const raw = rawBytesOf(msg)!;
    expect(dec.decode(raw.bytes.subarray(0, raw.headerLength))).toBe("NATS/1.0\r\na: 1\r\na: 2\r\n\r\n");
    expect(dec.decode(raw.bytes.subarray(raw.headerLength))).toBe("body");
    expect(hasRawReply(msg)).toBe(true);
    const bare = await nextMessage(conn, "raw.bare", () => conn.nc.publish("raw.bare", enc.encode("x")));
    expect(rawBytesOf(bare)).toMatchObject({ headerLength: 0 });
    expect(hasRawReply(bare)).toBe(false);
  });

  it("core message: decoded headers are cached in a field that msg.headers returns when set", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const h = natsHeaders();
    h.set("k", "v");
    const msg = await nextMessage(conn, "hdr", () => conn.nc.publish("hdr", enc.encode("x"), { headers: h }));
    expect(decodedHeadersOf(msg)).toBeUndefined(); // nothing decoded yet
    const stand = { get: () => "planted" };
    setDecodedHeaders(msg, stand);
    expect(msg.headers).toBe(stand);
    setDecodedHeaders(msg, undefined);
    expect(msg.headers?.get("k")).toBe("v"); // decodes as usual again
    expect(decodedHeadersOf(msg)).toBe(msg.headers);
  });

  it("JetStream message: its core message, its ack subject, and the flag that makes an ack final", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const [first, second] = await deliveries(conn, "jsm", 2);
    expect(coreMsgOf(first!)?.subject).toBe("jsm.0");
    expect(replyOf(first!)).toMatch(/^\$JS\.ACK\.jsm\.c\.1\.1\.1\.\d+\.1$/);
    expect(ackedFlagOf(first!)).toBe(false);
    first!.ack();
    expect(ackedFlagOf(first!)).toBe(true);
    // marked acknowledged: nats.js's own ack() then sends nothing
    setAckedFlag(second!, true);
    const before = conn.nc.stats().outMsgs;
    second!.ack();
    second!.nak();
    expect(conn.nc.stats().outMsgs).toBe(before);
    await conn.nc.flush();
    expect(await ackPending(conn, "jsm")).toBe(1);
  });

  it("callback consume(): its subscription's callback is an own property that sees every message first", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await conn.jsm.streams.add({ name: "sub", subjects: ["sub.>"] });
    for (let i = 0; i < 5; i++) await conn.js.publish(`sub.${i}`, enc.encode(String(i)));
    await conn.jsm.consumers.add("sub", { durable_name: "c", ack_policy: "explicit" } as never);
    const seen: string[] = [];
    const handled: string[] = [];
    const messages = await (await conn.js.consumers.get("sub", "c")).consume({ callback: (m) => void handled.push(m.subject) });
    const sub = subscriptionOf(messages)!;
    expect(sub).toBeDefined();
    const inner = sub.callback;
    sub.callback = (err, msg) => {
      if (!err && hasRawReply(msg)) seen.push(msg.subject);
      inner(err, msg);
    };
    const deadline = Date.now() + 10_000;
    while (handled.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await messages.close();
    expect(seen).toEqual(handled);
    expect(handled).toHaveLength(5);
  });

  it("Node's Buffer.prototype.utf8Slice decodes bytes of any Uint8Array", () => {
    const bytes = enc.encode("héllo wörld");
    expect(utf8Slice).toBeTypeOf("function");
    expect(utf8Slice!.call(bytes, 0, 6)).toBe("héllo");
  });
});
