// The payment service as its own process (the demo SIGKILLs and restarts
// it). Reads NATS_URL and PAYMENTS_DB; reports its counters to a parent
// process over IPC when there is one; SIGTERM or SIGINT stop it cleanly.
import { openOutboxDatabase, type SqliteDatabase } from "@chronicle/outbox";
import { connect } from "@chronicle/runtime";
import { startPaymentService } from "./payment-service.js";

const conn = await connect({ servers: process.env["NATS_URL"] ?? "nats://127.0.0.1:4222", name: `payments-${process.pid}` });
const opened = openOutboxDatabase(process.env["PAYMENTS_DB"] ?? "payments.db");
const service = await startPaymentService(conn, opened.db as SqliteDatabase, { failoverMs: Number(process.env["FAILOVER_MS"] ?? 10_000) });

const report = () => {
  if (!process.connected) return;
  const m = service.member.metrics();
  process.send?.({
    type: "stats",
    pid: process.pid,
    handled: m.handled,
    duplicates: m.duplicates,
    charges: service.charges(),
    partitions: service.member.partitions().length,
  });
};
const timer = setInterval(report, 200);
process.send?.({ type: "ready", pid: process.pid });
if (!process.send) console.log(`payments: member ${service.member.id} running; Ctrl-C stops`);

const stop = async () => {
  clearInterval(timer);
  report();
  await service.stop();
  await conn.close();
  await opened.close();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
