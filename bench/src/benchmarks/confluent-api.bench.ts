import { create } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createRegistryClient, startRegistryServer } from "@chronicle/registry";
import { startLocalServer } from "@chronicle/testing";
import { percentile, type Benchmark } from "../harness.js";

const round = (ms: number) => Math.round(ms * 100) / 100;

/** `package acme.b<i>.v1; message E { string x = 1; }` as a descriptor set (Connect) and as text (Confluent). */
function schemaOf(i: number) {
  const set = create(FileDescriptorSetSchema, {
    file: [
      {
        name: `acme/b${i}/v1/e.proto`,
        package: `acme.b${i}.v1`,
        syntax: "proto3",
        messageType: [{ name: "E", field: [{ name: "x", number: 1, label: 1, type: 9, jsonName: "x" }] }],
      },
    ],
  });
  return { set, text: `syntax = "proto3";\npackage acme.c${i}.v1;\nmessage E {\n  string x = 1;\n}\n` };
}

async function timeEach(n: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

const benchmark: Benchmark = {
  name: "confluent-api",
  description:
    "Confluent's REST API on the registry, one client, sequential: registering a new subject as .proto text (compiled by buf, one process per compile) beside registering the same kind of schema as a descriptor set through the Connect API; reading the latest version as rendered text beside a Connect GetLatestVersion",
  async run(ctx) {
    const n = ctx.quick ? 5 : 40;
    await using nats = await startLocalServer();
    await using server = await startRegistryServer({ nats: nats.url, auth: { tokens: [], anonymousAdmin: true } });
    const client = createRegistryClient({ baseUrl: server.url });
    try {
      const post = (path: string, body: unknown) =>
        fetch(server.url + path, { method: "POST", headers: { "content-type": "application/vnd.schemaregistry.v1+json" }, body: JSON.stringify(body) }).then(
          (r) => r.text(),
        );
      const connectRegister = await timeEach(n, (i) => client.register(`acme.b${i}.v1.E`, schemaOf(i).set));
      const textRegister = await timeEach(n, (i) => post(`/subjects/c${i}-value/versions`, { schemaType: "PROTOBUF", schema: schemaOf(i).text }));
      const connectRead = await timeEach(n, (i) => client.getLatestVersion(`acme.b${i}.v1.E`));
      const textRead = await timeEach(n, (i) => fetch(`${server.url}/subjects/c${i}-value/versions/latest`).then((r) => r.text()));
      ctx.log(`confluent-api: ${n} registrations and reads each way`);
      return [50, 99].flatMap((p) => [
        {
          name: `register .proto text (Confluent API) p${p}`,
          value: round(percentile(textRegister, p)),
          unit: "ms",
          lowerIsBetter: true,
          baseline: { name: `register descriptor set (Connect) p${p}`, value: round(percentile(connectRegister, p)) },
        },
        {
          name: `latest version as text (Confluent API) p${p}`,
          value: round(percentile(textRead, p)),
          unit: "ms",
          lowerIsBetter: true,
          baseline: { name: `GetLatestVersion (Connect) p${p}`, value: round(percentile(connectRead, p)) },
        },
      ]);
    } finally {
      client.close();
    }
  },
};

export default benchmark;
