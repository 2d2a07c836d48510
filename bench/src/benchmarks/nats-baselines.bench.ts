import { connect } from "@chronicle/runtime";
import { startLocalServer } from "@chronicle/testing";
import { consumeAndAck, pipelinedPublish, serialJsPublish, windowedJsPublish } from "../baselines/raw-nats.js";
import { perSecond, type Benchmark } from "../harness.js";

/** The raw nats.js figures on this machine, for orientation: every other benchmark measures its own baseline in its run. */
const benchmark: Benchmark = {
  name: "nats-baselines",
  description: "Raw nats.js 3 against a local nats-server (file storage, 128 B): acked publish styles and consume()+ack",
  async run(ctx) {
    const count = ctx.quick ? 2000 : 50_000;
    await using server = await startLocalServer();
    await using conn = await connect({ servers: server.url });
    await conn.jsm.streams.add({ name: "raw", subjects: ["raw.>"] });
    const payload = new Uint8Array(128).fill(7);
    const subject = (i: number) => `raw.${i % 64}`;
    ctx.log(`serial js.publish x ${Math.min(count, 5000)}`);
    const serialN = Math.min(count, 5000);
    const serial = perSecond(serialN, await serialJsPublish(conn.js, subject, serialN, payload));
    ctx.log(`windowed js.publish x ${count}`);
    const windowed = perSecond(count, await windowedJsPublish(conn.js, subject, count, payload));
    ctx.log(`pipelined x ${count}`);
    const pipelined = perSecond(count, await pipelinedPublish(conn.nc, subject, count, payload));
    ctx.log(`consume+ack x ${count}`);
    const consumed = perSecond(count, await consumeAndAck(conn.js, conn.jsm, "raw", count));
    const base = { name: "await js.publish one at a time", value: serial };
    return [
      { name: "js.publish, 1,000 in flight", value: windowed, unit: "events/s", baseline: base },
      { name: "hand-pipelined publish, 5,000 window", value: pipelined, unit: "events/s", baseline: base },
      { name: "consume() + ack()", value: consumed, unit: "events/s" },
    ];
  },
};
export default benchmark;
