// A load generator for the registry benchmark, run as a child process (as
// wrk or a fleet of consumers would be), so that the clients and the server
// under test each have a process of their own and the server's CPU time can
// be told apart. It receives one job at a time over IPC and answers with
// every call's latency.
import * as http from "node:http";
import { performance } from "node:perf_hooks";
import { create, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { createRegistryClient, registryApi } from "@chronicle/registry";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";

/** A registry read. */
export type RegistryRead = "GetVersion" | "GetLatestVersion" | "GetSchema";

/** What the benchmark asks the load generator to run. */
export type ReadJob =
  /** Reads through `@chronicle/registry`'s client (connect-node, binary, HTTP/1.1): what services run. */
  | { kind: "registry-client"; baseUrl: string; call: RegistryRead; subjects: string[]; versions: number; ids: string[] }
  /** The same reads as Connect binary POSTs from a plain keep-alive HTTP/1.1 client, as wrk would send them: the server's own latency. */
  | { kind: "http"; baseUrl: string; call: RegistryRead; subjects: string[]; versions: number; ids: string[] }
  /** `GET /schemas/ids/<id>` from a plain keep-alive HTTP/1.1 client. */
  | { kind: "schema-by-id"; baseUrl: string; ids: string[] }
  /** The baseline: raw JetStream KV gets from nats.js. */
  | { kind: "kv-get"; natsUrl: string; bucket: string; keys: string[] };

/** A job with its size: `clients` concurrent loops of `perClient` calls each. */
export interface ReadJobRequest {
  job: ReadJob;
  clients: number;
  perClient: number;
}

/** Every call's latency in ms, the wall time of the whole run, and how busy the load generator was (0-1). */
export interface ReadJobResult {
  latencies: number[];
  elapsedMs: number;
  clientBusy: number;
}

/** One keep-alive HTTP/1.1 connection's worth of client: sends a request, reads the whole answer, checks it is 200. */
function plainHttpClient(baseUrl: string) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (method: string, path: string, body?: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      const headers = body ? { "content-type": "application/proto", "content-length": String(body.length) } : {};
      const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
        res.resume();
        res.once("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path} answered ${res.statusCode}`))));
      });
      req.once("error", reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

function encoded<T extends DescMessage>(schema: T, init: MessageInitShape<T>): Uint8Array {
  return toBinary(schema, create(schema, init));
}

/** The request bodies of `call`, one per subject/version or id, in the order the calls cycle through them. */
function requestBodies(job: { call: RegistryRead; subjects: string[]; versions: number; ids: string[] }): Uint8Array[] {
  if (job.call === "GetSchema") return job.ids.map((id) => encoded(registryApi.GetSchemaRequestSchema, { id }));
  if (job.call === "GetLatestVersion") return job.subjects.map((subject) => encoded(registryApi.GetLatestVersionRequestSchema, { subject }));
  return job.subjects.flatMap((subject) =>
    Array.from({ length: job.versions }, (_, v) => encoded(registryApi.GetVersionRequestSchema, { subject, version: v + 1 })),
  );
}

async function clientsFor(job: ReadJob, clients: number) {
  const calls: Array<(i: number) => Promise<unknown>> = [];
  const cleanups: Array<() => unknown> = [];
  for (let w = 0; w < clients; w++) {
    if (job.kind === "registry-client") {
      const c = createRegistryClient({ baseUrl: job.baseUrl });
      cleanups.push(() => c.close());
      const subject = (i: number) => job.subjects[(w + i) % job.subjects.length]!;
      calls.push(
        job.call === "GetVersion"
          ? (i) => c.getVersion(subject(i), (i % job.versions) + 1)
          : job.call === "GetLatestVersion"
            ? (i) => c.getLatestVersion(subject(i))
            : (i) => c.getSchema(job.ids[(w + i) % job.ids.length]!),
      );
    } else if (job.kind === "http") {
      const c = plainHttpClient(job.baseUrl);
      cleanups.push(() => c.close());
      const bodies = requestBodies(job);
      const path = `/${registryApi.RegistryService.typeName}/${job.call}`;
      calls.push((i) => c.send("POST", path, bodies[(w * 7 + i) % bodies.length]!));
    } else if (job.kind === "schema-by-id") {
      const c = plainHttpClient(job.baseUrl);
      cleanups.push(() => c.close());
      calls.push((i) => c.send("GET", `/schemas/ids/${job.ids[(w + i) % job.ids.length]!}`));
    } else {
      const nc = await connect({ servers: job.natsUrl });
      cleanups.push(() => nc.close());
      const kv = await new Kvm(nc).open(job.bucket);
      calls.push(async (i) => {
        if (!(await kv.get(job.keys[(w * 7 + i) % job.keys.length]!))) throw new Error("raw KV get found nothing");
      });
    }
  }
  return { calls, close: async () => Promise.all(cleanups.map((c) => c())) };
}

async function run({ job, clients, perClient }: ReadJobRequest): Promise<ReadJobResult> {
  const { calls, close } = await clientsFor(job, clients);
  // warm up connections and code paths before timing
  await Promise.all(
    calls.map(async (call) => {
      for (let i = 0; i < 50; i++) await call(i);
    }),
  );
  const latencies: number[] = [];
  const elu = performance.eventLoopUtilization();
  const start = performance.now();
  await Promise.all(
    calls.map(async (call) => {
      for (let i = 0; i < perClient; i++) {
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  const clientBusy = performance.eventLoopUtilization(elu).utilization;
  await close();
  return { latencies, elapsedMs, clientBusy };
}

process.on("message", (req: ReadJobRequest) => {
  run(req).then(
    (result) => process.send!({ result }),
    (err: unknown) => process.send!({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
