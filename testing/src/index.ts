// @chronicle/testing: what tests and local development need, never a
// production dependency. Finding or installing `nats-server`, starting
// throwaway servers and clusters on loopback ports, killing them when the
// process that started them dies, and injecting faults into them
// (partitions, pauses, full disks, skewed clocks).

// Finding or installing nats-server (docs/local-nats.md)
export {
  ensureNatsServer,
  findNatsServer,
  installNatsServer,
  cachedServerPath,
  type NatsServerBinary,
  type FindNatsServerOptions,
} from "./nats-server-binary.js";
export { MIN_NATS_SERVER_VERSION, compareVersions, parseServerVersion } from "./server-version.js";
export { resolveCacheDir } from "./cache-dir.js";

// Throwaway servers for tests and `chronicle dev`
export { startLocalServer, type LocalServer, type LocalServerOptions } from "./local-server.js";
export { startLocalCluster, type LocalCluster, type LocalClusterOptions } from "./local-cluster.js";

// A throwaway PostgreSQL server (for the outbox and the SQL inbox)
export {
  startLocalPostgres,
  findPostgresBinaries,
  ensurePostgresBinaries,
  type LocalPostgres,
  type LocalPostgresOptions,
  type PostgresBinaries,
} from "./local-postgres.js";

/** Kills registered child processes when this process dies (used by the outbox's crash tests). @private */
export { guardChild, unguardChild } from "./orphan-reaper.js";

// Fault injection (docs/reliability.md, "Faults beyond crashes")
export { startFaultNetwork, type FaultNetwork, type LinkStats } from "./faults/fault-network.js";
export type { CutMode, PipeState } from "./faults/link-pipe.js";
export { startFaultyCluster, type FaultyCluster, type FaultyClusterOptions } from "./faults/faulty-cluster.js";
export { streamStateOnNodes, type ReplicaState } from "./faults/stream-state.js";
export {
  createFaultSchedule,
  runFaultSchedule,
  describeSchedule,
  seededRandom,
  FAULT_KINDS,
  type FaultKind,
  type FaultStep,
  type FaultScheduleOptions,
  type AppliedFault,
  type RunFaultScheduleOptions,
} from "./faults/fault-schedule.js";
export { mountSmallDisk, smallDiskSupport, type SmallDisk, type DiskUsage } from "./faults/small-disk.js";
export { skewedClock, clockSkewSupport, type SkewedClock } from "./faults/clock-skew.js";
