import { Kvm } from "@nats-io/kv";
import { describe, expect, it } from "vitest";
import { startLocalServer } from "@chronicle/testing";
import { connect, isChronicleError, type WireKind } from "../index.js";
import { createKvIdempotencyStore } from "./kv-store.js";

for (const wire of ["internal", "public"] as WireKind[]) {
  describe(`the KV idempotency store, ${wire} wire`, () => {
    it("records keys and answers lookups in batches: held, missing, deleted, the same key twice, more than one request's worth", async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url, wire });
      const store = await createKvIdempotencyStore(conn, { stream: "kv" });
      expect(store.bucket).toBe("chronicle_idem_kv");
      const keys = Array.from({ length: 600 }, (_, i) => `g.e0.k${i}`);
      await Promise.all(keys.filter((_, i) => i % 3 === 0).map((k) => store.markDone(k)));
      await (await new Kvm(conn.js).open(store.bucket)).delete("g.e0.k3");
      const answers = await Promise.all([...keys, "g.e0.k0"].map((k) => store.isDone(k)));
      expect(answers.slice(0, 600)).toEqual(keys.map((_, i) => i % 3 === 0 && i !== 3));
      expect(answers[600]).toBe(true);
      await store.close?.();
      await expect(store.isDone("g.e0.k1")).rejects.toSatisfy((e) => isChronicleError(e, "closed"));
      await expect(store.markDone("g.e0.k1")).rejects.toSatisfy((e) => isChronicleError(e, "closed"));
    });

    it("fails what the server does not answer within timeoutMs with unavailable, naming bucket and key", async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url, wire });
      const store = await createKvIdempotencyStore(conn, { stream: "slow", timeoutMs: 500 });
      await server.kill("SIGSTOP");
      try {
        const started = Date.now();
        const [lookup, record] = await Promise.allSettled([store.isDone("g.e0.a"), store.markDone("g.e0.b")]);
        expect(Date.now() - started).toBeLessThan(5_000);
        for (const [outcome, key] of [
          [lookup, "g.e0.a"],
          [record, "g.e0.b"],
        ] as const) {
          expect(outcome.status, JSON.stringify(outcome)).toBe("rejected");
          const err = (outcome as PromiseRejectedResult).reason as Error;
          expect(isChronicleError(err, "unavailable") && err.context).toMatchObject({ bucket: "chronicle_idem_slow", key });
          expect(err.message).toMatch(/no answer within 500 ms/);
        }
      } finally {
        await server.kill("SIGCONT");
      }
      await store.close?.();
    });
  });
}
