import { create } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { createRegistryClient, startRegistryServer } from "@chronicle/registry";
import { startLocalServer } from "@chronicle/testing";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { percentile, type Benchmark, type Measurement } from "../harness.js";

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

/** Runs `perWorker` calls on each of `workers` concurrent workers and returns every call's latency in ms. */
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

const round = (ms: number) => Math.round(ms * 100) / 100;

const benchmark: Benchmark = {
  name: "registry",
  description: `Schema registry: register and get latency through the Connect API (binary, HTTP/1.1) with ${CLIENTS} concurrent clients, vs a raw JetStream KV put/get round trip on the same NATS with ${CLIENTS} concurrent workers`,
  async run(ctx) {
    const perClient = ctx.quick ? 10 : 60;
    const gets = ctx.quick ? 50 : 400;
    await using nats = await startLocalServer();
    await using server = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true } });
    const clients = Array.from({ length: CLIENTS }, () => createRegistryClient({ baseUrl: server.url }));
    const nc = await connect({ servers: nats.url });
    try {
      // baseline: the KV round trips a registration is made of, raw
      const kv = await new Kvm(nc).create("bench_raw_kv", { history: 1, storage: "file" });
      const value = new Uint8Array(600).fill(7);
      const rawPut = await latencies(CLIENTS, perClient, (w, i) => kv.put(`k.${w}.${i}`, value));
      const rawGet = await latencies(CLIENTS, gets, (w, i) => kv.get(`k.${w}.${i % perClient}`));
      ctx.log(`raw KV: ${rawPut.length} puts, ${rawGet.length} gets`);

      // registrations: each client its own subject, each call a new version (FULL_TRANSITIVE against all earlier ones)
      const subjects = clients.map((_, w) => `acme.bench${w}.v1.OrderPlaced`);
      const register = await latencies(CLIENTS, perClient, (w, i) => clients[w]!.register(subjects[w]!, eventSchema(subjects[w]!, i)));
      const versions = await clients[0]!.listVersions(subjects[0]!);
      if (versions.length !== perClient) throw new Error(`expected ${perClient} versions, got ${versions.length}`);
      ctx.log(`registry: ${register.length} registrations, up to ${perClient} versions a subject`);
      const get = await latencies(CLIENTS, gets, (w, i) => clients[w]!.getVersion(subjects[w]!, (i % perClient) + 1));
      const latest = await latencies(CLIENTS, gets, (w) => clients[w]!.getLatestVersion(subjects[w]!));

      const m = (name: string, samples: number[], p: number, baseName: string, base: number[]): Measurement => ({
        name: `${name} p${p}`,
        value: round(percentile(samples, p)),
        unit: "ms",
        lowerIsBetter: true,
        baseline: { name: `${baseName} p${p}`, value: round(percentile(base, p)) },
      });
      return [
        m("Register (new version)", register, 50, "raw KV put", rawPut),
        m("Register (new version)", register, 99, "raw KV put", rawPut),
        m("GetVersion", get, 50, "raw KV get", rawGet),
        m("GetVersion", get, 99, "raw KV get", rawGet),
        m("GetLatestVersion", latest, 50, "raw KV get", rawGet),
        m("GetLatestVersion", latest, 99, "raw KV get", rawGet),
      ];
    } finally {
      for (const c of clients) c.close();
      await nc.close();
    }
  },
};

export default benchmark;
