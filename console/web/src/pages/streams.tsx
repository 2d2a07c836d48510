import { useState } from "react";
import type { StreamSummary } from "../../../src/gen/chronicle/console/v1/console_pb.js";
import { ops } from "../api.js";
import { href, useLoad, useStream, type Loaded } from "../hooks.js";
import { StateView, fmtBytes, fmtNumber, fmtTime } from "../ui.js";

export function StreamsPage() {
  const [streams, setStreams] = useState<Loaded<StreamSummary[]>>({ state: "loading" });
  const error = useStream(
    (signal) => ops.watchStreams({ intervalMs: 2000 }, { signal }),
    (m) => setStreams({ state: "ok", data: m.streams }),
    [],
  );
  const shown: Loaded<StreamSummary[]> = error && streams.state !== "ok" ? { state: "error", error } : streams;
  const [open, setOpen] = useState("");
  return (
    <section>
      <h1>Streams</h1>
      {error && streams.state === "ok" && <div className="state error">Updates stopped: {error}</div>}
      <StateView value={shown} empty="No streams yet. Create them with chronicle streams apply." isEmpty={(d) => d.length === 0}>
        {(list) => (
          <table data-testid="streams">
            <thead>
              <tr>
                <th>stream</th>
                <th>partitions</th>
                <th>messages</th>
                <th>bytes</th>
                <th>storage</th>
                <th>replicas</th>
                <th>leader / followers</th>
                <th>sync</th>
                <th>last event</th>
                <th>health</th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => [
                <tr key={s.name} className={s.warnings.length ? "warn" : ""} data-testid={`stream-${s.name}`}>
                  <td>
                    <button className="link" onClick={() => setOpen(open === s.name ? "" : s.name)}>
                      {open === s.name ? "▾" : "▸"} {s.name}
                    </button>{" "}
                    {!s.deadLetter && s.partitions > 0 && <a href={href(["messages"], { stream: s.name })}>browse</a>}
                    {s.deadLetter && <a href={href(["dead-letters"], { stream: s.name.slice(0, -4) })}>dead letters</a>}
                  </td>
                  <td>{s.partitions || "—"}</td>
                  <td>{fmtNumber(s.messages)}</td>
                  <td>{fmtBytes(s.bytes)}</td>
                  <td>{s.storage}</td>
                  <td>{s.replicas}</td>
                  <td>
                    {s.cluster
                      ? s.replicasState.map((r) => (
                          <span key={r.name} className={r.leader ? "leader" : r.current ? "" : "behind"}>
                            {r.name}
                            {r.leader ? " (leader)" : r.offline ? " offline" : r.current ? "" : ` lag ${fmtNumber(r.lag)}`}{" "}
                          </span>
                        ))
                      : "single server"}
                  </td>
                  <td>{s.syncInterval || "—"}</td>
                  <td>{fmtTime(s.lastTime)}</td>
                  <td>
                    {s.warnings.length ? (
                      <span className="warning" data-testid="stream-warning">
                        ⚠ {s.warnings.join("; ")}
                      </span>
                    ) : (
                      "ok"
                    )}
                  </td>
                </tr>,
                open === s.name && (
                  <tr key={`${s.name}-p`}>
                    <td colSpan={10}>
                      <Partitions name={s.name} />
                    </td>
                  </tr>
                ),
              ])}
            </tbody>
          </table>
        )}
      </StateView>
    </section>
  );
}

function Partitions({ name }: { name: string }) {
  const [detail] = useLoad((signal) => ops.getStream({ name }, { signal }), [name]);
  return (
    <StateView value={detail} empty="This stream has no partitions (not a Chronicle stream)." isEmpty={(d) => d.partitions.length === 0}>
      {(d) => (
        <table className="inner" data-testid="partitions">
          <thead>
            <tr>
              <th>partition</th>
              <th>messages</th>
              <th>bytes (est.)</th>
            </tr>
          </thead>
          <tbody>
            {d.partitions.map((p) => (
              <tr key={p.partition}>
                <td>
                  <a href={href(["messages"], { stream: name, partition: p.partition })}>{p.partition}</a>
                </td>
                <td>{fmtNumber(p.messages)}</td>
                <td>{fmtBytes(p.bytesEstimate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </StateView>
  );
}
