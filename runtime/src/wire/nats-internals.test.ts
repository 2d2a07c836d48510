// The contract of every nats.js internal the internal wire relies on, one
// test per accessor of nats-internals.ts, against the installed nats.js and
// a real server. A nats.js upgrade that moves or changes one fails here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { headers as natsHeaders, type Msg } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, type ChronicleConnection } from "../index.js";
import { decodedHeadersOf, inboxPrefixOf, NATS_JS_VERSION, protocolOf, rawBytesOf, rawSubjectOf, utf8Slice } from "./nats-internals.js";

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

  it("core message: the subject's bytes, the header block's bytes and length", async () => {
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
    const bare = await nextMessage(conn, "raw.bare", () => conn.nc.publish("raw.bare", enc.encode("x")));
    expect(rawBytesOf(bare)).toMatchObject({ headerLength: 0 });
  });

  it("core message: decoded headers are cached in a field, unset until msg.headers is read", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    const h = natsHeaders();
    h.set("k", "v");
    const msg = await nextMessage(conn, "hdr", () => conn.nc.publish("hdr", enc.encode("x"), { headers: h }));
    expect(decodedHeadersOf(msg)).toBeUndefined(); // nothing decoded yet
    expect(msg.headers?.get("k")).toBe("v");
    expect(decodedHeadersOf(msg)).toBe(msg.headers);
  });

  it("Node's Buffer.prototype.utf8Slice decodes bytes of any Uint8Array", () => {
    const bytes = enc.encode("héllo wörld");
    expect(utf8Slice).toBeTypeOf("function");
    expect(utf8Slice!.call(bytes, 0, 6)).toBe("héllo");
  });
});
