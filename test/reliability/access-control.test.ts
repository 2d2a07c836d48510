// Issue #10, scenario 5: access control. Registry tokens; NATS credentials
// (user/password, token, NKey, TLS with a private CA made with openssl here)
// in the runtime and the CLI; permissions that confine a service to its own
// subjects. Secrets never appear in output.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator, createMemoryStore, createRegistryClient, startRegistryServer } from "@chronicle/registry";
import { connect, createProducer, ensureStream, isChronicleError } from "@chronicle/runtime";
import { startLocalServer, type LocalServer } from "@chronicle/testing";
import { runCli } from "../../cli/src/framework/run-cli.js";
import { rootCommand } from "../../cli/src/commands/root.js";
import { messageSet } from "../../registry/src/testing/schemas.js";
import { BREAK, noteStream } from "./helpers.js";

// CHRONICLE_RELIABILITY_BREAK=auth: the NATS servers start without their authorization (the TLS
// server keeps TLS), the operator-mode server is a plain one, and the registry lets anonymous
// requests do anything (anonymousAdmin): every test of this file except "constant time" must fail.
const BROKEN = BREAK === "auth";

const ADMIN_PW = "admin-pw-Zq81XvL0pA93";
const ORDERS_PW = "orders-pw-Jd72kWm3Lq05";
const NATS_TOKEN = "nats-token-Ux3K9pQ2vR7s";
const seedPair = createUser();
const SEED = new TextDecoder().decode(seedPair.getSeed());
const secrets = [ADMIN_PW, ORDERS_PW, NATS_TOKEN, SEED];

let dir: string;
let tlsServer: LocalServer;
let tokenServer: LocalServer;
const tls = { caFile: "", certFile: "", keyFile: "" };

/** A private CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(d: string): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: d, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=chronicle-test-ca");
  writeFileSync(join(d, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  writeFileSync(join(d, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const who of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${who}-key.pem`, "-out", `${who}.csr`, "-subj", `/CN=${who}`);
    ssl(
      "x509",
      "-req",
      "-in",
      `${who}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-out",
      `${who}.pem`,
      "-days",
      "2",
      "-extfile",
      `${who}.ext`,
    );
  }
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** A NATS JWT (v2 claims) for `sub`, signed by `signer`. */
function natsJwt(signer: KeyPair, sub: string, name: string, nats: Record<string, unknown>): string {
  const claims = {
    jti: `J${Date.now().toString(36).toUpperCase()}${name}`,
    iat: Math.floor(Date.now() / 1000),
    iss: signer.getPublicKey(),
    name,
    sub,
    nats: { ...nats, version: 2 },
  };
  const head = `${b64({ typ: "JWT", alg: "ed25519-nkey" })}.${b64(claims)}`;
  return `${head}.${Buffer.from(signer.sign(new TextEncoder().encode(head))).toString("base64url")}`;
}

/** Decentralized auth: an operator, a system account, an account with JetStream and a user's creds file. Returns the server config. */
function makeOperatorSetup(d: string): { config: string; credsFile: string; userSeed: string } {
  const op = createOperator();
  const sys = createAccount();
  const acc = createAccount();
  const user = createUser();
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const opJwt = natsJwt(op, op.getPublicKey(), "op", { type: "operator", system_account: sys.getPublicKey() });
  const sysJwt = natsJwt(op, sys.getPublicKey(), "SYS", { type: "account", limits: unlimited });
  const accJwt = natsJwt(op, acc.getPublicKey(), "app", {
    type: "account",
    limits: { ...unlimited, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
  });
  const userJwt = natsJwt(acc, user.getPublicKey(), "svc", { type: "user", pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
  const userSeed = new TextDecoder().decode(user.getSeed());
  const credsFile = join(d, "svc.creds");
  writeFileSync(
    credsFile,
    `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${userSeed}\n------END USER NKEY SEED------\n`,
  );
  const config = [
    `operator: ${JSON.stringify(opJwt)}`,
    `system_account: ${sys.getPublicKey()}`,
    "resolver: MEMORY",
    `resolver_preload: { ${acc.getPublicKey()}: ${JSON.stringify(accJwt)}, ${sys.getPublicKey()}: ${JSON.stringify(sysJwt)} }`,
  ].join("\n");
  return { config, credsFile, userSeed };
}

let credsServer: LocalServer;
let creds: { credsFile: string; userSeed: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "chronicle-rel-auth-"));
  makeCertificates(dir);
  Object.assign(tls, { caFile: join(dir, "ca.pem"), certFile: join(dir, "client.pem"), keyFile: join(dir, "client-key.pem") });
  writeFileSync(join(dir, "seed.nk"), `${SEED}\n`);
  // The orders service may publish to orders.> and use the JetStream API only as far as a producer of orders needs.
  const ordersPermissions = `{
      publish: { allow: ["orders.>", "$JS.API.INFO", "$JS.API.STREAM.INFO.orders"] }
      subscribe: { allow: ["_INBOX.>"] }
    }`;
  const authorization = `
authorization {
  users: [
    { user: "admin", password: ${JSON.stringify(ADMIN_PW)} }
    { user: "orders", password: ${JSON.stringify(ORDERS_PW)}, permissions: ${ordersPermissions} }
    { nkey: ${JSON.stringify(seedPair.getPublicKey())} }
  ]
}`;
  tlsServer = await startLocalServer({
    extraConfig: `
tls {
  cert_file: ${JSON.stringify(join(dir, "server.pem"))}
  key_file: ${JSON.stringify(join(dir, "server-key.pem"))}
  ca_file: ${JSON.stringify(join(dir, "ca.pem"))}
  verify: true
  timeout: 5
}
${BROKEN ? "" : authorization}`,
  });
  tokenServer = await startLocalServer({ extraConfig: BROKEN ? "" : `authorization { token: ${JSON.stringify(NATS_TOKEN)} }` });
  const op = makeOperatorSetup(dir);
  creds = op;
  secrets.push(op.userSeed);
  credsServer = await startLocalServer({ extraConfig: BROKEN ? "" : op.config });
}, 60_000);
afterAll(async () => {
  await tlsServer?.stop();
  await tokenServer?.stop();
  await credsServer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const noSecret = (text: string) => {
  for (const s of secrets) expect(text.includes(s), "a secret was printed").toBe(false);
};

describe("NATS credentials and permissions (runtime)", () => {
  it("user/password over TLS with a private CA and a client certificate; NKey; token; each refused without its secret", async () => {
    await using admin = await connect({ servers: tlsServer.url, user: "admin", pass: ADMIN_PW, tls });
    const orders = noteStream("orders", 2);
    const payments = noteStream("payments", 2);
    await ensureStream(admin, orders);
    await ensureStream(admin, payments);

    await using viaNkey = await connect({ servers: tlsServer.url, nkeySeed: SEED, tls });
    const r = await createProducer(viaNkey, orders).publish("Note", { value: "k:nkey" });
    expect(r.sequence).toBe(1);
    await using viaToken = await connect({ servers: tokenServer.url, token: NATS_TOKEN });
    expect(viaToken.nc.isClosed()).toBe(false);

    const refusals = await Promise.all([
      connect({ servers: tlsServer.url, user: "admin", pass: "wrong-password", tls }).catch((e: unknown) => e),
      connect({ servers: tlsServer.url, user: "admin", pass: ADMIN_PW }).catch((e: unknown) => e), // no CA, no client certificate
      connect({ servers: tokenServer.url, token: "not-the-token" }).catch((e: unknown) => e),
      connect({ servers: tokenServer.url }).catch((e: unknown) => e),
    ]);
    for (const err of refusals) {
      expect(isChronicleError(err), err instanceof Error ? String(err) : "connected: the server did not refuse").toBe(true);
      noSecret(String((err as Error).message));
    }
    expect((refusals[0] as { code: string }).code).toBe("permission_denied");
    expect((refusals[2] as { code: string }).code).toBe("permission_denied");
  });

  it("a creds file (operator mode: JWT and seed) works; without it the server refuses", async () => {
    await using conn = await connect({ servers: credsServer.url, credsFile: creds.credsFile });
    const def = noteStream("jwt", 2);
    await ensureStream(conn, def);
    expect((await createProducer(conn, def).publish("Note", { value: "k:1" })).sequence).toBe(1);
    const refused = await connect({ servers: credsServer.url }).catch((e: unknown) => e);
    expect((refused as { code: string }).code, refused instanceof Error ? String(refused) : "connected without creds").toBe("permission_denied");
    noSecret(String(refused));
  });

  it("a service allowed only orders.> publishes orders and is refused payments with a clear permission error", async () => {
    await using conn = await connect({ servers: tlsServer.url, user: "orders", pass: ORDERS_PW, tls, timeoutMs: 3000 });
    const producer = createProducer(conn, noteStream("orders", 2), { ackTimeoutMs: 1000, publishTimeoutMs: 6000 });
    expect((await producer.publish("Note", { value: "k:1" })).duplicate).toBe(false);
    await producer.close();
    const violations: string[] = [];
    void (async () => {
      for await (const st of conn.nc.status()) if (st.type === "error") violations.push(String((st as { error?: unknown }).error));
    })();
    const refused = createProducer(conn, noteStream("payments", 2), { ackTimeoutMs: 1000, publishTimeoutMs: 6000 });
    const t0 = Date.now();
    const err = await refused.publish("Note", { value: "k:1" }).catch((e: unknown) => e);
    const ms = Date.now() - t0;
    await refused.close();
    console.log(`permission refusal: ${String(err)} after ${ms} ms; server said: ${violations.join("; ")}`);
    expect(isChronicleError(err), err instanceof Error ? String(err) : `published (${JSON.stringify(err)}): not refused`).toBe(true);
    // the server refused it for permissions, and said so on the connection
    expect(violations.join("\n")).toMatch(/permission.*payments\.Note\.k/i);
    // the producer matches the server's permissions violation to the publish and fails it at once
    expect((err as { code: string }).code).toBe("permission_denied");
    expect(ms).toBeLessThan(1000);
    // nothing reached the payments stream
    await using admin = await connect({ servers: tlsServer.url, user: "admin", pass: ADMIN_PW, tls });
    expect((await admin.jsm.streams.info("payments")).state.messages).toBe(0);
  });
});

describe("NATS credentials in the CLI", () => {
  const cli = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(rootCommand, argv, "0.0.0-test", { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: dir });
    const text = [...out, ...err].join("\n");
    noSecret(text);
    return { code, text };
  };

  it("groups list with --user/--password and --tls-* works; a wrong or missing secret is a clear error that does not echo it", async () => {
    const base = ["groups", "list", "--servers", tlsServer.url, "--tls-ca", tls.caFile, "--tls-cert", tls.certFile, "--tls-key", tls.keyFile];
    const ok = await cli([...base, "--user", "admin", "--password", ADMIN_PW]);
    expect(ok.code, ok.text).toBe(0);
    const nkey = await cli([...base, "--nkey", join(dir, "seed.nk")]);
    expect(nkey.code, nkey.text).toBe(0);
    const wrong = await cli([...base, "--user", "admin", "--password", `${ADMIN_PW}x`]);
    expect(wrong.code, `wrong password: ${wrong.text}`).toBe(2);
    expect(wrong.text).toMatch(/refused the credentials|authoriz/i);
    expect(wrong.text.includes(`${ADMIN_PW}x`)).toBe(false);
    const none = await cli(["groups", "list", "--servers", tlsServer.url]);
    expect(none.code, `no secret: ${none.text}`).toBe(2);
    const both = await cli([...base, "--user", "admin", "--password", ADMIN_PW, "--token", NATS_TOKEN]);
    expect(both.code).toBe(2);
    expect(both.text).toMatch(/not several/);
  });

  it("streams, groups and lag with --creds and $NATS_CREDS against an operator-mode server", async () => {
    const viaFlag = await cli(["groups", "list", "--servers", credsServer.url, "--creds", creds.credsFile]);
    expect(viaFlag.code, viaFlag.text).toBe(0);
    process.env["NATS_CREDS"] = creds.credsFile;
    try {
      const viaEnv = await cli(["lag", "--servers", credsServer.url]);
      expect(viaEnv.code, viaEnv.text).toBe(0);
    } finally {
      delete process.env["NATS_CREDS"];
    }
    const missing = await cli(["lag", "--servers", credsServer.url, "--creds", join(dir, "nope.creds")]);
    expect(missing.code).toBe(2);
    expect(missing.text).toMatch(/cannot read the credentials file/);
  });

  it("lag with $NATS_TOKEN and $NATS_URL from the environment; a URL with user information is not echoed", async () => {
    process.env["NATS_TOKEN"] = NATS_TOKEN;
    process.env["NATS_URL"] = tokenServer.url;
    try {
      expect((await cli(["lag"])).code).toBe(0);
    } finally {
      delete process.env["NATS_TOKEN"];
      delete process.env["NATS_URL"];
    }
    const bad = await cli(["lag", "--servers", `nats://someone:${NATS_TOKEN}@127.0.0.1:${tokenServer.port}`, "--token", "wrong-token-value"]);
    expect(bad.code, `wrong token: ${bad.text}`).toBe(2);
  });
});

describe("registry access control", () => {
  const READ = "read-token-0123456789abcdef";
  const WRITE = "write-token-0123456789abcdef";
  const ADMIN = "admin-token-0123456789abcdef";

  it("writes without a token are refused, a read token cannot write or delete, tokens never appear in logs or errors", async () => {
    const logs: string[] = [];
    await using registry = await startRegistryServer({
      store: createMemoryStore(),
      auth: {
        tokens: [
          { name: "reader", role: "read", token: READ },
          { name: "ci", role: "write", token: WRITE },
          { name: "ops", role: "admin", token: ADMIN },
        ],
        anonymousRead: true,
        anonymousAdmin: BROKEN,
      },
      log: (l) => logs.push(l),
    });
    const set = messageSet("acme.v1.Thing", [{ name: "id", number: 1 }]);
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) => {
          logs.push(String(e));
          return e instanceof ConnectError ? Code[e.code] : String(e);
        },
      );
    const anon = createRegistryClient({ baseUrl: registry.url });
    const reader = createRegistryClient({ baseUrl: registry.url, token: READ });
    const writer = createRegistryClient({ baseUrl: registry.url, token: WRITE });
    const forged = createRegistryClient({ baseUrl: registry.url, token: `${ADMIN.slice(0, -1)}X` });
    expect(await codeOf(anon.register("acme.v1.Thing", set))).toBe("Unauthenticated");
    expect(await codeOf(reader.register("acme.v1.Thing", set))).toBe("PermissionDenied");
    expect(await codeOf(forged.register("acme.v1.Thing", set))).toBe("Unauthenticated");
    expect(await codeOf(writer.register("acme.v1.Thing", set))).toBe("ok");
    expect(await codeOf(reader.deleteSubject("acme.v1.Thing"))).toBe("PermissionDenied");
    expect(await codeOf(writer.deleteSubject("acme.v1.Thing"))).toBe("PermissionDenied");
    expect(await codeOf(reader.setConfig({ readOnly: true }))).toBe("PermissionDenied");
    expect(await codeOf(anon.listSubjects())).toBe("ok");
    expect(await reader.listSubjects()).toEqual(["acme.v1.Thing"]);
    // a raw request with a token in a malformed header
    const res = await fetch(`${registry.url}/chronicle.registry.v1.RegistryService/Register`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Token ${WRITE}` },
      body: "{}",
    });
    logs.push(await res.text());
    const all = logs.join("\n");
    for (const t of [READ, WRITE, ADMIN]) expect(all.includes(t), "a token was printed").toBe(false);
    for (const c of [anon, reader, writer, forged]) c.close();
  });

  it("tokens are compared in constant time: a near-miss takes as long as a far miss", () => {
    const auth = createAuthenticator({ tokens: [{ name: "ops", role: "admin", token: ADMIN }] });
    const time = (presented: string) => {
      const samples: number[] = [];
      for (let round = 0; round < 15; round++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 400; i++) {
          try {
            auth.authorize(`Bearer ${presented}`, "read");
          } catch {
            // refused, as expected
          }
        }
        samples.push(Number(process.hrtime.bigint() - t0));
      }
      return samples.sort((a, b) => a - b)[7]!;
    };
    time("warm-up-token-000000000000");
    const near = time(`${ADMIN.slice(0, -1)}X`);
    const far = time("X".repeat(ADMIN.length));
    const ratio = near / far;
    console.log(`token comparison: near-miss ${near} ns / far-miss ${far} ns per 400 = ${ratio.toFixed(2)}`);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
