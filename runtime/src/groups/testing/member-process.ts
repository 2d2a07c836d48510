// A consumer group member in its own process, for failover tests:
//   node --import tsx --conditions=@chronicle/source member-process.ts URL STREAM PARTITIONS GROUP MEMBER_ID
// Every handled event is reported as a core NATS message on `effects.<STREAM>`;
// the assignment on `assign.<STREAM>`.
import { connect } from "../../connection.js";
import { startConsumerGroup } from "../start-consumer-group.js";
import { noteStream } from "./test-stream.js";

const [url, stream, partitions, group, memberId] = process.argv.slice(2) as [string, string, string, string, string];
const conn = await connect({ servers: url });
const def = noteStream(stream, Number(partitions));
const enc = new TextEncoder();
const member = await startConsumerGroup(conn, def, {
  group,
  memberId,
  onError: () => undefined,
  onAssignment: (ps) => conn.nc.publish(`assign.${stream}`, enc.encode(JSON.stringify({ m: memberId, ps }))),
  handlers: {
    Note: async (e, ctx) => {
      conn.nc.publish(`effects.${stream}`, enc.encode(JSON.stringify({ m: memberId, p: ctx.partition, k: ctx.key, v: e.value, s: ctx.sequence })));
    },
  },
});
process.stdout.write(`ready ${member.id}\n`);
process.on("SIGTERM", () => {
  void member.stop().then(() => conn.close().then(() => process.exit(0)));
});
