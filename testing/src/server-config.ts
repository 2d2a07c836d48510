/** Everything one local `nats-server` process is configured with. @private */
export interface ServerSpec {
  name: string;
  port: number;
  httpPort: number;
  storeDir: string;
  syncAlways: boolean;
  maxPayload?: number;
  /** Cluster listener and the route URLs this node dials; `extra` lines go inside the `cluster` block. */
  cluster?: { name: string; port: number; routes: string[]; extra?: string[] };
  extraConfig?: string;
}

/**
 * Renders a nats-server configuration that binds every listener to
 * 127.0.0.1 (nats-server listens on all interfaces unless told otherwise).
 * @private
 */
export function renderServerConfig(spec: ServerSpec): string {
  const lines = [
    `server_name: ${JSON.stringify(spec.name)}`,
    `listen: "127.0.0.1:${spec.port}"`,
    `http: "127.0.0.1:${spec.httpPort}"`,
    ...(spec.maxPayload ? [`max_payload: ${spec.maxPayload}`] : []),
    "jetstream {",
    `  store_dir: ${JSON.stringify(spec.storeDir)}`,
    ...(spec.syncAlways ? ["  sync_interval: always"] : []),
    "}",
  ];
  if (spec.cluster) {
    lines.push(
      "cluster {",
      `  name: ${JSON.stringify(spec.cluster.name)}`,
      `  listen: "127.0.0.1:${spec.cluster.port}"`,
      `  routes: [${spec.cluster.routes.map((u) => JSON.stringify(u)).join(", ")}]`,
      ...(spec.cluster.extra ?? []).map((l) => `  ${l}`),
      "}",
    );
  }
  if (spec.extraConfig) lines.push(spec.extraConfig);
  return `${lines.join("\n")}\n`;
}
