// A member process frozen for longer than the failover bound during a rebalance, then thawed.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect, ensureStream } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { BREAK, killMember, notes, noteStream, publishAll, readEffects, scaled, sleep, spawnMember, waitFor } from "./helpers.js";

describe("a member frozen (SIGSTOP) during a rebalance", () => {
  const EVENTS = scaled(6000, 30_000);
  const FAILOVER_MS = 2000;
  const FREEZE_MS = 8000;

  it(
    `${EVENTS} events: no partition waits for the frozen member, none lost, per-key order broken only inside the rebalance window`,
    { timeout: 150_000 },
    async () => {
      await using server = await startLocalServer();
      await using conn = await connect({ servers: server.url });
      const def = noteStream("freeze", 8);
      await ensureStream(conn, def);
      const dir = mkdtempSync(join(tmpdir(), "chronicle-rel-freeze-"));
      const effectsFile = join(dir, "effects.log");
      // CHRONICLE_RELIABILITY_BREAK=failover: a failover bound longer than the freeze, to prove the test catches a stall
      const failoverMs = BREAK === "failover" ? 30_000 : FAILOVER_MS;
      const base = { servers: [server.url], stream: "freeze", partitions: 8, group: "g", effectsFile, store: "kv" as const, failoverMs, handlerDelayMs: 1 };
      const children: ChildProcess[] = [];
      try {
        children.push(await spawnMember({ ...base, memberId: "m1" }), await spawnMember({ ...base, memberId: "m2" }));
        await sleep(1500);
        const values = notes(EVENTS, 100);
        const windows = 40;
        let stopAt = 0;
        let contAt = 0;
        const publishing = publishAll(conn, def, values, {
          window: Math.ceil(EVENTS / windows),
          onProgress: async (done) => {
            await sleep(300);
            if (stopAt === 0 && done >= EVENTS / 8) {
              // a third member joins (a rebalance starts) and m1 freezes in the middle of it
              void spawnMember({ ...base, memberId: "m3" }).then((c) => children.push(c));
              await sleep(300);
              await killMember(children[0]!, "SIGSTOP");
              stopAt = Date.now();
              setTimeout(() => {
                void killMember(children[0]!, "SIGCONT");
                contAt = Date.now();
              }, FREEZE_MS);
            }
          },
        });
        const pub = await publishing;
        expect(pub.failed).toEqual([]);
        await waitFor(() => contAt > 0, FREEZE_MS + 5000);
        const handled = () => new Set(readEffects(effectsFile).map((e) => e.v)).size;
        const all = await waitFor(() => handled() >= EVENTS, 90_000, 250);
        const effects = readEffects(effectsFile);
        expect(all, `handled ${handled()} of ${EVENTS}`).toBe(true);

        // no partition left without a reader: while events kept coming, no partition went quiet for the freeze
        const byPartition = new Map<number, number[]>();
        for (const e of effects) byPartition.set(e.p, [...(byPartition.get(e.p) ?? []), e.at]);
        let maxStall = 0;
        for (const ats of byPartition.values()) {
          // time without an effect in this partition from the freeze on (events kept arriving in every partition)
          for (let i = 1; i < ats.length; i++)
            if (ats[i]! > stopAt && ats[i - 1]! < contAt) maxStall = Math.max(maxStall, ats[i]! - Math.max(ats[i - 1]!, stopAt));
        }
        // per-key order: the first handling of each event follows the key's order, except inside the window
        const windowEnd = contAt + failoverMs + 2000;
        const seen = new Set<string>();
        const lastN = new Map<string, number>();
        let inWindow = 0;
        let outside = 0;
        for (const e of effects) {
          if (seen.has(e.v)) continue;
          seen.add(e.v);
          const [k, n] = [e.v.split(":")[0]!, Number(e.v.split(":")[1])];
          if ((lastN.get(k) ?? -1) > n) {
            if (e.at >= stopAt && e.at <= windowEnd) inWindow++;
            else outside++;
          }
          lastN.set(k, Math.max(n, lastN.get(k) ?? -1));
        }
        const repeated = effects.length - seen.size;
        console.log(
          `SIGSTOP ${FREEZE_MS} ms during a rebalance: events=${EVENTS} lost=${EVENTS - seen.size} maxPartitionStallMs=${maxStall} ` +
            `outOfOrderInWindow=${inWindow} outOfOrderOutside=${outside} repeatedEffects=${repeated}`,
        );
        expect(maxStall, "longest time a partition waited from the freeze on, ms").toBeLessThan(FREEZE_MS - 1000);
        expect(outside).toBe(0);
      } finally {
        for (const c of children) {
          c.kill("SIGCONT");
          await killMember(c);
        }
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
