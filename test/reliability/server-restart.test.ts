// One file-storage nats-server SIGKILLed and restarted while a producer publishes and a consumer group consumes.
import { describe, expect, it } from "vitest";
import { connect, describeGroup, startConsumerGroup } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { checkGroupRun, describeVerdict } from "./group-check.js";
import { type Effect, notes, noteStream, publishAll, scaled, sleep, storedCounts, waitFor, provision } from "./helpers.js";

describe("single server restarted during publishing and consuming", () => {
  const EVENTS = scaled(20_000, 100_000);
  const RESTARTS = scaled(2, 6);

  it(
    `${EVENTS} events, ${RESTARTS} SIGKILL+restart: clients reconnect and resume, nothing acknowledged lost, nothing stored or handled twice`,
    { timeout: 180_000 },
    async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url, name: "producer" });
      const def = noteStream("restart", 8);
      await provision(conn, def);
      const effects: Effect[] = [];
      const members = await Promise.all(
        ["a", "b"].map(async (id) => {
          const c = await connect({ servers: server.url, name: `member-${id}` });
          const member = await startConsumerGroup(c, def, {
            group: "g",
            memberId: id,
            onError: () => undefined,
            handlers: { Note: async (e, ctx) => void effects.push({ m: id, v: e.value, p: ctx.partition, s: ctx.sequence, at: Date.now() }) },
          });
          return { c, member };
        }),
      );
      const values = notes(EVENTS, 200);
      const downtimes: number[] = [];
      const resumes: number[] = [];
      let nextAt = EVENTS / (RESTARTS + 1);
      const pub = await publishAll(conn, def, values, {
        window: 1000,
        onProgress: async (done) => {
          if (done < nextAt || downtimes.length >= RESTARTS) return;
          nextAt += EVENTS / (RESTARTS + 1);
          await sleep(5 + Math.random() * 20); // the window is on the wire, some stored, some acknowledged
          const t0 = Date.now();
          await server.kill("SIGKILL");
          await server.restart();
          downtimes.push(Date.now() - t0);
          const handledBefore = effects.length;
          void waitFor(() => effects.length > handledBefore, 60_000, 20).then(() => resumes.push(Date.now() - t0));
        },
      });
      expect(downtimes).toHaveLength(RESTARTS);
      expect(pub.failed.slice(0, 3).map((f) => `${f.value}: ${f.error.message}`)).toEqual([]);
      const stored = await storedCounts(conn, "restart");
      const lost = [...pub.acked.keys()].filter((v) => !stored.has(v));
      const twice = [...stored.entries()].filter(([, n]) => n > 1);
      expect(lost).toEqual([]);
      expect(twice, `${twice.length} events stored twice`).toEqual([]);
      expect((await conn.jsm.streams.info("restart")).state.messages).toBe(EVENTS);

      const handled = () => new Set(effects.map((e) => e.v)).size;
      const allHandled = await waitFor(() => handled() === EVENTS, 90_000, 200);
      if (!allHandled) {
        const seen = new Set(effects.map((e) => e.v));
        const missing = [...pub.acked.entries()].filter(([v]) => !seen.has(v));
        const parts = new Map<number, number>();
        for (const [, r] of missing) parts.set(r.partition, (parts.get(r.partition) ?? 0) + 1);
        console.log(
          `not handled by partition: ${JSON.stringify([...parts])}; owners: ${members.map(({ member }) => `${member.id}=${member.partitions().join(",")}`).join(" ")}`,
          JSON.stringify(await describeGroup(conn, "restart", "g")),
        );
      }
      expect(allHandled, `handled ${handled()} of ${EVENTS}`).toBe(true);
      const byValue = new Map<string, number>();
      for (const e of effects) byValue.set(e.v, (byValue.get(e.v) ?? 0) + 1);
      const handledTwice = [...byValue.values()].filter((n) => n > 1).length;
      console.log(
        `server restarts: events=${EVENTS} restarts=${RESTARTS} downtimeMs=${downtimes.join(",")} consumeResumedMs=${resumes.join(",")} ` +
          `producerStallMs=${pub.maxAckGapMs} lost=${lost.length} storedTwice=${twice.length} handledTwice=${handledTwice}`,
      );
      // per-key order holds through the restarts; a handler runs twice only if a member lost its lease
      // during the outage (a lost connection), at most maxUnrecorded per member and restart
      const verdict = checkGroupRun(effects, values);
      console.log(`server restarts: ${describeVerdict(verdict)}`);
      expect(verdict.outOfOrder).toEqual([]);
      expect(handledTwice).toBeLessThanOrEqual(RESTARTS * 2 * 1024);
      for (const { c, member } of members) {
        await member.stop();
        await c.close();
      }
    },
  );
});
