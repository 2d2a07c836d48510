import { connect, startConsumerGroup, createProducer } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { createTestStreams, noteStream, publishNotes, roundRobin } from "/work/wt/groups/runtime/dist/groups/testing/test-stream.js";
const N = Number(process.argv[2] ?? 50000);
const MEMBERS = Number(process.argv[3] ?? 1);
await using server = await startLocalServer();
await using conn = await connect({ servers: server.url });
const def = noteStream("rate", 16);
await createTestStreams(conn, def);
{ const p = createProducer(conn, def); const items = roundRobin(N, 500); for (let i = 0; i < N; i += 2000) await p.publishBatch(items.slice(i, i + 2000).map((x) => ({ name: "Note" as const, event: { value: `${x.key}:${x.n}` } }))); await p.close(); }
console.log("published");
import { readFileSync } from "node:fs";
const srvCpu = () => { const f = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
let handled = 0; let first = 0; let last = 0;
const c0 = process.cpuUsage(); const s0 = srvCpu();
const t0 = performance.now();
const conns = await Promise.all(Array.from({ length: MEMBERS }, () => connect({ servers: server.url })));
const members = await Promise.all(conns.map((c, i) => startConsumerGroup(c, def, { group: "g", memberId: `m${i}`, onError: (e) => console.error(String(e)), handlers: { Note: async () => { if (handled++ === 0) first = performance.now(); if (handled === N) last = performance.now(); } } })));
const deadline = Date.now() + 120000;
let prev = 0; const DEBUG_COUNTS = {};
while (handled < N && Date.now() < deadline) { await new Promise((r) => setTimeout(r, 500)); console.log(`t=${Math.round(performance.now()-t0)} handled=${handled} (+${handled-prev})`, JSON.stringify(DEBUG_COUNTS), members.map((m) => m.partitions().length).join(",")); prev = handled; }
console.log("writes", (globalThis as any).__writes);
const cu = process.cpuUsage(c0); const su = srvCpu() - s0;
console.log(`rate ${Math.round((N - 1) / (last - first) * 1000)}/s, first after ${Math.round(first - t0)} ms, client ${((cu.user + cu.system) / N).toFixed(1)} us/ev, server ${(su * 1000 / N).toFixed(1)} us/ev`);
for (const m of members) await m.stop();
for (const c of conns) await c.close();
