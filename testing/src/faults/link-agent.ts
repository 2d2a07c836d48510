// The fault agent: a child process that owns every link pipe of one
// FaultNetwork and obeys its parent over the IPC channel. It runs apart from
// the test so that a busy test process (encoding thousands of events, a
// garbage collection) never delays the traffic it forwards, which would look
// like a fault of its own. It exits when its parent goes away.
import { LinkPipe, openSink, type PipeState, type PipeStats } from "./link-pipe.js";

/** A request from the parent; `id` matches the reply. @private */
export type AgentRequest =
  | { id: number; op: "open"; target: number }
  | { id: number; op: "set"; ports: number[]; state: PipeState }
  | { id: number; op: "target"; port: number; target: number }
  | { id: number; op: "sink" }
  | { id: number; op: "stats" };

/** The agent's reply to one {@link AgentRequest}. @private */
export type AgentReply = { id: number; port?: number; stats?: PipeStats[]; error?: string };

const pipes = new Map<number, LinkPipe>();

async function handle(req: AgentRequest): Promise<AgentReply> {
  switch (req.op) {
    case "open": {
      const pipe = await LinkPipe.open(req.target);
      pipes.set(pipe.port, pipe);
      return { id: req.id, port: pipe.port };
    }
    case "set":
      for (const port of req.ports) {
        const pipe = pipes.get(port);
        if (!pipe) return { id: req.id, error: `no pipe on port ${port}` };
        pipe.set(req.state);
      }
      return { id: req.id };
    case "target": {
      const pipe = pipes.get(req.port);
      if (!pipe) return { id: req.id, error: `no pipe on port ${req.port}` };
      pipe.setTarget(req.target);
      return { id: req.id };
    }
    case "sink":
      return { id: req.id, port: (await openSink()).port };
    case "stats":
      return { id: req.id, stats: [...pipes.values()].map((p) => p.stats()) };
  }
}

if (process.send) {
  process.on("message", (req: AgentRequest) => {
    handle(req).then(
      (reply) => process.send?.(reply),
      (err: unknown) => process.send?.({ id: req.id, error: String(err) }),
    );
  });
  // the parent died or let go: nothing here may outlive it
  process.on("disconnect", () => process.exit(0));
  process.send({ id: 0 });
}
