import { useState } from "react";
import type { GetSessionResponse, GroupSnapshot, PreviewRewindResponse, RewindTarget } from "../../../src/gen/chronicle/console/v1/console_pb.js";
import { describeError, ops } from "../api.js";
import { href, useLoad, useStream } from "../hooks.js";
import { Confirm, ErrorLine, Sparkline, StateView, fmtNumber } from "../ui.js";

export function GroupsPage({ parts, session }: { parts: string[]; session: GetSessionResponse }) {
  return parts.length >= 2 ? <GroupView stream={parts[0]!} group={parts[1]!} session={session} /> : <GroupList />;
}

function GroupList() {
  const [list] = useLoad((signal) => ops.listGroups({}, { signal }), []);
  return (
    <section>
      <h1>Consumer groups</h1>
      <StateView value={list} empty="No consumer groups yet: a group appears when its first member starts." isEmpty={(d) => d.groups.length === 0}>
        {(d) => (
          <table data-testid="groups">
            <thead>
              <tr>
                <th>stream</th>
                <th>group</th>
                <th>partitions</th>
                <th>lag</th>
              </tr>
            </thead>
            <tbody>
              {d.groups.map((g) => (
                <tr key={`${g.stream}/${g.group}`}>
                  <td>{g.stream}</td>
                  <td>
                    <a href={href(["groups", g.stream, g.group])}>{g.group}</a>
                  </td>
                  <td>{g.partitions}</td>
                  <td>{fmtNumber(g.lag)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </StateView>
    </section>
  );
}

const rate = (v: number) => (v < 0 ? "—" : `${v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1)}/s`);

function GroupView({ stream, group, session }: { stream: string; group: string; session: GetSessionResponse }) {
  const [history, setHistory] = useState<GroupSnapshot[]>([]);
  const [pollError, setPollError] = useState("");
  const error = useStream(
    (signal) => ops.watchGroup({ stream, group }, { signal }),
    (m) => {
      setPollError(m.error);
      if (m.snapshots.length) setHistory((h) => [...h, ...m.snapshots].slice(-300));
    },
    [stream, group],
  );
  const last = history[history.length - 1];
  return (
    <section>
      <p>
        <a href="#/groups">Consumer groups</a> / {stream} /
      </p>
      <h1>{group}</h1>
      <ErrorLine error={error || pollError} />
      {!last ? (
        !error && !pollError && <div className="state loading">Loading…</div>
      ) : (
        <>
          <div className="stats">
            <div>
              <span className="big" data-testid="group-lag">
                {fmtNumber(last.lag)}
              </span>
              lag
              <Sparkline values={history.map((s) => Number(s.lag))} label="total lag, last minutes" />
            </div>
            <div>
              <span className="big" data-testid="handled-rate">
                {rate(last.handledPerSec)}
              </span>
              handled
            </div>
            <div>
              <span className="big">{last.failedPerSec < 0 ? "—" : rate(last.failedPerSec)}</span>
              failed{last.failedPerSec < 0 && <span className="muted"> (not known yet: from the members' heartbeats)</span>}
            </div>
            <div>
              <span className="big">{rate(last.deadLetteredPerSec)}</span>
              dead-lettered ({fmtNumber(last.deadLetters)} waiting) {last.deadLetters > 0n && <a href={href(["dead-letters"], { stream, group })}>open</a>}
            </div>
            <div>
              epoch <span className="big">{String(last.epoch)}</span>
            </div>
          </div>
          <h2>Members</h2>
          {last.members.length === 0 ? (
            <div className="state empty">No members: nobody consumes this group now.</div>
          ) : (
            <table data-testid="members">
              <thead>
                <tr>
                  <th>member</th>
                  <th>host</th>
                  <th>pid</th>
                  <th>partitions</th>
                  <th>heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {last.members.map((m) => (
                  <tr key={m.id} className={m.live ? "" : "warn"}>
                    <td>{m.id}</td>
                    <td>{m.host}</td>
                    <td>{m.pid}</td>
                    <td>{m.partitions.join(", ") || "—"}</td>
                    <td>
                      {(Number(m.heartbeatAgeMs) / 1000).toFixed(1)} s ago{m.live ? "" : " (gone)"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Partitions</h2>
          <table data-testid="partition-lag">
            <thead>
              <tr>
                <th>partition</th>
                <th>owner</th>
                <th>lag</th>
                <th>last minutes</th>
                <th>position</th>
              </tr>
            </thead>
            <tbody>
              {last.partitions.map((p) => (
                <tr key={p.partition}>
                  <td>{p.partition}</td>
                  <td>{p.owner || "—"}</td>
                  <td data-testid={`lag-${p.partition}`}>{fmtNumber(p.lag)}</td>
                  <td>
                    <Sparkline
                      values={history.map((s) => Number(s.partitions.find((x) => x.partition === p.partition)?.lag ?? 0))}
                      width={120}
                      height={20}
                      label={`lag of partition ${p.partition}`}
                    />
                  </td>
                  <td className="muted">
                    {Object.entries(p.details)
                      .map(([k, v]) => `${k} ${v}`)
                      .join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {session.role === "admin" ? <Rewind stream={stream} group={group} /> : <p className="muted">An admin token may rewind this group.</p>}
        </>
      )}
    </section>
  );
}

function targetOf(text: string): RewindTarget["to"] {
  const t = text.trim();
  if (t === "" || t === "start") return { case: "start", value: true };
  if (/^\d+$/.test(t)) return { case: "sequence", value: BigInt(t) };
  return { case: "time", value: t };
}

function Rewind({ stream, group }: { stream: string; group: string }) {
  const [to, setTo] = useState("start");
  const [preview, setPreview] = useState<PreviewRewindResponse | undefined>();
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [confirming, setConfirming] = useState(false);
  return (
    <div className="card">
      <h2>Rewind</h2>
      <label>
        to <input value={to} onChange={(e) => setTo(e.target.value)} placeholder="start, a sequence or a time" data-testid="rewind-to" />
      </label>{" "}
      <button
        onClick={() => {
          setError("");
          setPreview(undefined);
          ops.previewRewind({ stream, group, to: { to: targetOf(to) } }).then(setPreview, (err: unknown) => setError(describeError(err)));
        }}
        data-testid="rewind-preview"
      >
        Preview
      </button>
      <ErrorLine error={error} />
      {done && <p>{done}</p>}
      {preview && (
        <div data-testid="rewind-preview-result">
          <p>
            The group would handle <strong>{fmtNumber(preview.total)}</strong> stored event(s) again:{" "}
            {preview.redeliver.map((p) => `partition ${p.partition}: ${fmtNumber(p.messages)}`).join(", ")}.
          </p>
          {preview.liveMembers.length > 0 ? (
            <p className="warning" data-testid="rewind-refused">
              Refused while members run: {preview.liveMembers.map((m) => `${m.id} on ${m.host} pid ${m.pid}`).join(", ")}. Stop them, rewind, start them again.
            </p>
          ) : (
            <button className="danger" onClick={() => setConfirming(true)}>
              Rewind…
            </button>
          )}
        </div>
      )}
      {confirming && preview && (
        <Confirm
          title={`Rewind ${stream}/${group}`}
          expected={`${stream}/${group}`}
          action="Rewind"
          onCancel={() => setConfirming(false)}
          onConfirm={(typed) => {
            setConfirming(false);
            ops.rewindGroup({ stream, group, to: { to: targetOf(to) }, confirm: typed }).then(
              (r) => setDone(`Rewound: epoch ${r.epoch}, ${r.partitions} partition(s).`),
              (err: unknown) => setError(describeError(err)),
            );
          }}
        >
          <p>{fmtNumber(preview.total)} event(s) will be handled again, even those handled before.</p>
        </Confirm>
      )}
    </div>
  );
}
