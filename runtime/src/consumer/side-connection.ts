import { connect as natsConnect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";

/**
 * Opens a second connection with the options `nc` was opened with (same
 * servers, credentials, TLS and reconnect settings), for the default
 * idempotency store's lookups and records: on their own socket they do not
 * queue behind the events arriving and the acks leaving, and the member
 * handles noticeably more events per second. Returns `undefined` when `nc`
 * does not expose its options or the connection fails; the caller then
 * shares `nc`. The caller closes what it gets.
 * @private
 */
export async function openSideConnection(nc: NatsConnection): Promise<NatsConnection | undefined> {
  const options = (nc as unknown as { options?: ConnectionOptions }).options;
  if (!options || nc.isClosed()) return undefined;
  try {
    return await natsConnect({ ...options, ...(options.name ? { name: `${options.name} (idempotency)` } : {}) });
  } catch {
    return undefined;
  }
}
