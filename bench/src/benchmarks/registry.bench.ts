import { fork } from "node:child_process";
import { create } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { createRegistryClient, startRegistryServer } from "@chronicle/registry";
import { startLocalServer } from "@chronicle/testing";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { percentile, perSecond, type Benchmark, type Measurement } from "../harness.js";
import type { ReadJob, ReadJobRequest, ReadJobResult, RegistryRead } from "../load/registry-readers.js";

const CLIENTS = 8;

/** An event with a dozen fields; `variant` changes a file option only, so every variant is a distinct, compatible version. */
function eventSchema(subject: string, variant: number): FileDescriptorSet {
  const dot = subject.lastIndexOf(".");
  const names = ["order_id", "customer_id", "sku", "qty", "currency", "units", "nanos", "street", "city", "zip", "country", "note"];
  return create(FileDescriptorSetSchema, {
    file: [
      {
        name: `${subject.slice(0, dot).replaceAll(".", "/")}/events.proto`,
        package: subject.slice(0, dot),
        syntax: "proto3",
        options: { javaPackage: `com.acme.bench.v${variant}` },
        messageType: [
          {
            name: subject.slice(dot + 1),
            field: names.map((name, i) => ({
              name,
              number: i + 1,
              label: 1,
              type: i % 3 === 0 ? 3 : 9,
              jsonName: name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
            })),
          },
        ],
      },
    ],
  });
}

/** Runs `perWorker` calls on each of `workers` concurrent workers in this thread and returns every call's latency in ms. */
async function latencies(workers: number, perWorker: number, call: (worker: number, i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; i < perWorker; i++) {
        const t = performance.now();
        await call(w, i);
        samples.push(performance.now() - t);
      }
    }),
  );
  return samples;
}

/** The load generator: a child process, run the way this benchmark runs (through tsx), that runs one read job at a time. */
function startReaders() {
  const child = fork(new URL("../load/registry-readers.ts", import.meta.url), [], { execArgv: process.execArgv, stdio: "inherit" });
  return {
    run: (job: ReadJob, perClient: number) =>
      new Promise<ReadJobResult>((resolve, reject) => {
        child.once("message", (m: { result?: ReadJobResult; error?: string }) => (m.result ? resolve(m.result) : reject(new Error(m.error))));
        child.once("error", reject);
        child.send({ job, clients: CLIENTS, perClient } satisfies ReadJobRequest);
      }),
    stop: () => child.kill(),
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

const benchmark: Benchmark = {
  name: "registry",
  description: `Schema registry, ${CLIENTS} concurrent clients over HTTP/1.1: reads answered from the server's in-memory copy (Connect binary POSTs from a load generator process, plain and through @chronicle/registry's client) beside raw JetStream KV gets from the same process; registrations beside raw KV puts`,
  async run(ctx) {
    const perClient = ctx.quick ? 10 : 60;
    const readsPerClient = ctx.quick ? 200 : 3000;
    await using nats = await startLocalServer();
    await using server = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true } });
    // the same registry with every request through connect-es, to show what the fast path for reads is worth
    await using connectOnly = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true }, fastReads: false });
    const clients = Array.from({ length: CLIENTS }, () => createRegistryClient({ baseUrl: server.url }));
    const nc = await connect({ servers: nats.url });
    const readers = startReaders();
    try {
      // baselines: the KV round trips, raw
      const kv = await new Kvm(nc).create("bench_raw_kv", { history: 1, storage: "file" });
      const value = new Uint8Array(600).fill(7);
      const rawPut = await latencies(CLIENTS, perClient, (w, i) => kv.put(`k.${w}.${i}`, value));
      const rawKeys = Array.from({ length: CLIENTS * perClient }, (_, n) => `k.${n % CLIENTS}.${Math.floor(n / CLIENTS)}`);
      const rawGet = await readers.run({ kind: "kv-get", natsUrl: nats.url, bucket: "bench_raw_kv", keys: rawKeys }, readsPerClient);
      ctx.log(`raw KV: ${rawPut.length} puts, ${rawGet.latencies.length} gets from the load generator`);

      // registrations: each client its own subject, each call a new version (FULL_TRANSITIVE against all earlier ones)
      const subjects = clients.map((_, w) => `acme.bench${w}.v1.OrderPlaced`);
      const register = await latencies(CLIENTS, perClient, (w, i) => clients[w]!.register(subjects[w]!, eventSchema(subjects[w]!, i)));
      const versions = await clients[0]!.listVersions(subjects[0]!);
      if (versions.length !== perClient) throw new Error(`expected ${perClient} versions, got ${versions.length}`);
      const ids = await Promise.all(subjects.map(async (s) => (await clients[0]!.getLatestVersion(s)).id));
      ctx.log(`registry: ${register.length} registrations, ${perClient} versions a subject`);

      const reads = (call: RegistryRead) => ({ call, subjects, versions: perClient, ids });
      const runs: Array<[string, ReadJob]> = [
        ["GetVersion", { kind: "http", baseUrl: server.url, ...reads("GetVersion") }],
        ["GetLatestVersion", { kind: "http", baseUrl: server.url, ...reads("GetLatestVersion") }],
        ["GetSchema (get by id)", { kind: "http", baseUrl: server.url, ...reads("GetSchema") }],
        ["GET /schemas/ids/{id}", { kind: "schema-by-id", baseUrl: server.url, ids }],
        ["GetVersion, @chronicle/registry client", { kind: "registry-client", baseUrl: server.url, ...reads("GetVersion") }],
        ["GetVersion, all through connect-es (fastReads: false)", { kind: "http", baseUrl: connectOnly.url, ...reads("GetVersion") }],
      ];
      // warm the server's read paths up (and let the registrations' garbage be collected) before timing any of them
      for (const [, job] of runs) await readers.run(job, Math.ceil(readsPerClient / 10));
      const measured: Array<[string, ReadJobResult & { serverCpuUs: number }]> = [];
      for (const [name, job] of runs) {
        const cpu = process.cpuUsage();
        const r = await readers.run(job, readsPerClient);
        const used = process.cpuUsage(cpu);
        const serverCpuUs = (used.user + used.system) / r.latencies.length;
        measured.push([name, { ...r, serverCpuUs }]);
        ctx.log(`${name}: ${r.latencies.length} reads; server CPU ${serverCpuUs.toFixed(0)} µs a read, load generator busy ${Math.round(r.clientBusy * 100)}%`);
      }

      const latency = (name: string, samples: number[], p: number, baseName: string, base: number[], note?: string): Measurement => ({
        name: `${name} p${p}`,
        value: round(percentile(samples, p)),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: `${baseName} p${p}`, value: round(percentile(base, p)) },
        ...(note ? { note } : {}),
      });
      const rate = (r: ReadJobResult) => perSecond(r.latencies.length, r.elapsedMs);
      const out: Measurement[] = [
        latency("Register (new version)", register, 50, "raw KV put", rawPut),
        latency("Register (new version)", register, 99, "raw KV put", rawPut),
      ];
      for (const [name, r] of measured) {
        out.push(
          latency(name, r.latencies, 50, "raw KV get", rawGet.latencies, "target < 1 ms"),
          latency(name, r.latencies, 99, "raw KV get", rawGet.latencies, "target < 3 ms"),
          {
            name: `${name} throughput`,
            value: rate(r),
            unit: "reads/s",
            baseline: { name: "raw KV get", value: rate(rawGet) },
            note: `target >= 10,000 reads/s; server CPU ${Math.round(r.serverCpuUs)} µs a read; load generator busy ${Math.round(r.clientBusy * 100)}% (raw KV get: ${Math.round(rawGet.clientBusy * 100)}%)`,
          },
        );
      }
      return out;
    } finally {
      readers.stop();
      for (const c of clients) c.close();
      await nc.close();
    }
  },
};

export default benchmark;
