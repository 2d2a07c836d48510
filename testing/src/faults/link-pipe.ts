import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

/**
 * What a cut link does to traffic.
 *
 * - `drop`: a black hole, like a firewall that drops packets. Open
 *   connections stay open but nothing moves either way; bytes already sent
 *   wait (as TCP would retransmit them) and arrive if the link heals before
 *   an endpoint gives up. A connection opened meanwhile is accepted and then
 *   hangs. Only the endpoints' own timeouts (pings, write deadlines) notice.
 * - `reject`: like a firewall that answers with a reset. Open connections
 *   are reset at once and new ones are reset as they arrive.
 */
export type CutMode = "drop" | "reject";

/** State of one directed link: open, or cut in one of the {@link CutMode}s. */
export type PipeState = "open" | CutMode;

/** Counters of one {@link LinkPipe}. @private */
export interface PipeStats {
  port: number;
  target: number;
  state: PipeState;
  /** Connections accepted since the pipe opened. */
  accepted: number;
  /** Connections open now. */
  active: number;
  /** Bytes forwarded, both ways. */
  bytes: number;
}

/** One direction of a proxied connection: reads `src`, writes `dst`. */
class Pump {
  /** `dst` asked us to wait for its `drain`. */
  private waitingDrain = false;
  /** `src` ended or failed while the link was cut: end `dst` when it heals, as a delayed FIN would. */
  private endPending = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly pipe: LinkPipe,
  ) {
    src.on("data", (chunk: Buffer) => {
      pipe.bytes += chunk.length;
      if (!dst.write(chunk)) {
        this.waitingDrain = true;
        src.pause();
      }
    });
    dst.on("drain", () => {
      this.waitingDrain = false;
      if (pipe.state === "open") src.resume();
    });
    const finish = () => {
      if (pipe.state === "open") dst.end();
      else this.endPending = true;
    };
    src.once("end", finish);
    src.once("close", finish);
  }

  /** Stops reading: what was not read yet waits in the kernel's buffers, as on a silent network. */
  hold(): void {
    this.src.pause();
  }

  release(): void {
    if (this.endPending) this.dst.end();
    else if (!this.waitingDrain) this.src.resume();
  }
}

/** One accepted connection and its upstream, dialled once the link lets it through. */
class PipeConnection {
  private upstream: Socket | undefined;
  private pumps: Pump[] = [];
  private downstreamClosed = false;

  constructor(
    private readonly pipe: LinkPipe,
    private readonly downstream: Socket,
  ) {
    downstream.setNoDelay(true);
    downstream.on("error", () => undefined);
    downstream.once("close", () => {
      this.downstreamClosed = true;
      if (!this.upstream || this.upstream.destroyed) pipe.forget(this);
    });
    if (pipe.state === "open" && pipe.target > 0) this.connectUpstream();
    else downstream.pause();
  }

  /** Dials the target. A target that is down (a stopped node) refuses, and the caller sees its connection close. */
  private connectUpstream(): void {
    if (this.upstream || this.downstreamClosed) return;
    const up = connect({ host: "127.0.0.1", port: this.pipe.target });
    this.upstream = up;
    up.setNoDelay(true);
    up.on("error", () => undefined);
    up.once("close", () => {
      if (this.downstreamClosed) this.pipe.forget(this);
    });
    this.pumps = [new Pump(this.downstream, up, this.pipe), new Pump(up, this.downstream, this.pipe)];
    this.downstream.resume();
  }

  hold(): void {
    this.downstream.pause();
    for (const p of this.pumps) p.hold();
  }

  release(): void {
    if (!this.upstream) {
      if (this.pipe.target > 0) this.connectUpstream();
    } else for (const p of this.pumps) p.release();
  }

  /** Resets both sides at once. */
  reset(): void {
    this.downstream.resetAndDestroy();
    this.upstream?.resetAndDestroy();
    this.pipe.forget(this);
  }

  destroy(): void {
    this.downstream.destroy();
    this.upstream?.destroy();
  }
}

/**
 * A directed link: a TCP listener on 127.0.0.1 that forwards each connection
 * to a target port on 127.0.0.1, and can be cut and healed any number of
 * times. It runs inside the fault agent process (see `link-agent.ts`), so
 * that a busy test process does not slow the traffic it forwards.
 * @private
 */
export class LinkPipe {
  state: PipeState = "open";
  bytes = 0;
  accepted = 0;
  private readonly connections = new Set<PipeConnection>();
  private readonly server: Server;

  private constructor(
    /** Port connections are forwarded to; 0 until known: connections wait meanwhile. */
    public target: number,
  ) {
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Opens a pipe to `target` (0: not known yet, see {@link setTarget}) on a free port (or `port`). */
  static async open(target: number, port = 0): Promise<LinkPipe> {
    const pipe = new LinkPipe(target);
    await new Promise<void>((resolve, reject) => {
      pipe.server.once("error", reject);
      pipe.server.listen(port, "127.0.0.1", () => resolve());
    });
    return pipe;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private accept(socket: Socket): void {
    this.accepted++;
    if (this.state === "reject") {
      socket.on("error", () => undefined);
      socket.resetAndDestroy();
      return;
    }
    this.connections.add(new PipeConnection(this, socket));
  }

  /** Cuts the link (`drop` or `reject`) or heals it (`open`). */
  set(state: PipeState): void {
    const was = this.state;
    this.state = state;
    if (state === was) return;
    for (const c of [...this.connections]) {
      if (state === "reject") c.reset();
      else if (state === "drop") c.hold();
      else c.release();
    }
  }

  /** Sets the port connections go to, and lets through those that waited for it. */
  setTarget(target: number): void {
    this.target = target;
    if (this.state === "open") for (const c of this.connections) c.release();
  }

  forget(c: PipeConnection): void {
    this.connections.delete(c);
  }

  stats(): PipeStats {
    return { port: this.port, target: this.target, state: this.state, accepted: this.accepted, active: this.connections.size, bytes: this.bytes };
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A listener that resets every connection: an address that is never reachable. @private */
export async function openSink(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.resetAndDestroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
