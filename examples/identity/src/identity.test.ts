import { connect, ensureStream } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { describe, expect, it } from "vitest";
import { usersStream } from "./gen/shop/identity/v1/identity_chronicle.js";
import { startSignupConsumers } from "./signup-consumers.js";
import { createSignupService } from "./signup-service.js";

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("identity example", () => {
  it("delivers each signup to the five groups once, absorbing a republished event", async () => {
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await ensureStream(conn, usersStream);
    const signup = createSignupService(conn);
    const { members, effects } = await startSignupConsumers(conn, { paceMs: { analytics: 5 } });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        ids.push(
          await signup.signUp({ email: i === 4 ? `u${i}@mailinator.test` : `u${i}@example.com`, displayName: `U${i}`, country: "DE", referral: "search" }),
        );
      }
      // the signup call returned long before the slow analytics group handled the events
      for (const id of ids.slice(0, 3)) await signup.republish(id);
      await until(() => members.every((m) => m.metrics().handled === 30 && m.metrics().duplicates === 3));
      expect([...effects.welcomeEmails.values()]).toEqual(Array(30).fill(1));
      expect(effects.auditLog).toHaveLength(30);
      expect(effects.flagged).toEqual(new Set([ids[4]]));
      expect(effects.profiles.size).toBe(30);
      expect(effects.byReferral.get("search")).toBe(30);
      expect(effects.orderViolations).toBe(0);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await signup.close();
    }
  });
});
