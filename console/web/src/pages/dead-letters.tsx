import { Fragment, useState } from "react";
import type { GetSessionResponse, RedriveDeadLettersResponse } from "../../../src/gen/chronicle/console/v1/console_pb.js";
import { describeError, ops } from "../api.js";
import { EventDetailRow } from "../event-view.js";
import { href, useLoad } from "../hooks.js";
import { Confirm, ErrorLine, StateView, fmtNumber, fmtTime } from "../ui.js";

type Pending = { kind: "selected"; sequences: bigint[]; group: string } | { kind: "matching"; count: number; group: string } | { kind: "purge" };

export function DeadLettersPage({ query, session }: { query: URLSearchParams; session: GetSessionResponse }) {
  const stream = query.get("stream") ?? "";
  const filter = { group: query.get("group") ?? "", event: query.get("event") ?? "", key: query.get("key") ?? "", text: query.get("text") ?? "" };
  const [form, setForm] = useState(filter);
  const [list, reload] = useLoad((signal) => ops.listDeadLetters({ stream, filter, limit: 500 }, { signal }), [query.toString()]);
  const [selected, setSelected] = useState<Set<bigint>>(new Set());
  const [open, setOpen] = useState<bigint | undefined>();
  const [pending, setPending] = useState<Pending | undefined>();
  const [progress, setProgress] = useState<RedriveDeadLettersResponse | undefined>();
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const write = session.role === "write" || session.role === "admin";

  const redrive = async (group: string, sequences: bigint[], confirm: string) => {
    setError("");
    setProgress(undefined);
    try {
      for await (const p of ops.redriveDeadLetters({ stream, group, sequences, filter: { ...filter, group }, confirm })) {
        setProgress((old) => ({ ...p, results: [...(old?.results ?? []), ...p.results] }));
      }
    } catch (err) {
      setError(describeError(err));
    }
    setSelected(new Set());
    reload();
  };

  return (
    <section>
      <h1>Dead letters</h1>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = href(["dead-letters"], { stream, ...form });
        }}
      >
        <label>
          stream{" "}
          <select value={stream} onChange={(e) => (location.hash = href(["dead-letters"], { stream: e.target.value }))} data-testid="dlq-stream">
            <option value="">choose…</option>
            {list.state === "ok" &&
              list.data.streams.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
          </select>
        </label>
        {(["group", "event", "key", "text"] as const).map((f) => (
          <label key={f}>
            {f === "text" ? "reason/error" : f}{" "}
            <input value={form[f]} onChange={(e) => setForm({ ...form, [f]: e.target.value })} size={14} data-testid={`dlq-filter-${f}`} />
          </label>
        ))}
        <button type="submit" disabled={!stream}>
          Filter
        </button>
      </form>
      <ErrorLine error={error} />
      {notice && <p>{notice}</p>}
      {progress && (
        <div className="progress" data-testid="redrive-progress">
          <progress max={progress.total} value={progress.done} /> {progress.done} of {progress.total} redriven
          {progress.failed ? `, ${progress.failed} failed` : ""}
          {progress.finished ? " — done" : "…"}
          {progress.results
            .filter((r) => !r.ok)
            .map((r) => (
              <div key={String(r.dlqSequence)} className="state error">
                #{String(r.dlqSequence)}: {r.error}
              </div>
            ))}
        </div>
      )}
      {!stream ? (
        <StateView value={list} empty="No stream has dead letters." isEmpty={(d) => d.streams.length === 0}>
          {() => <div className="state empty">Choose a stream.</div>}
        </StateView>
      ) : (
        <StateView value={list} empty="No dead letters match." isEmpty={(d) => d.deadLetters.length === 0}>
          {(d) => {
            const groups = [...new Set(d.deadLetters.map((x) => x.group))];
            const selGroups = [...new Set(d.deadLetters.filter((x) => selected.has(x.dlqSequence)).map((x) => x.group))];
            return (
              <>
                <p className="muted">
                  {d.deadLetters.length} shown of {fmtNumber(d.total)} in {stream}_dlq.{" "}
                  {write && (
                    <>
                      <button
                        disabled={selected.size === 0 || selGroups.length !== 1}
                        title={selGroups.length > 1 ? "select dead letters of one group" : ""}
                        onClick={() => setPending({ kind: "selected", sequences: [...selected], group: selGroups[0]! })}
                        data-testid="redrive-selected"
                      >
                        Redrive {selected.size} selected
                      </button>{" "}
                      <button
                        disabled={groups.length !== 1}
                        title={groups.length > 1 ? "filter by one group first" : ""}
                        onClick={() => setPending({ kind: "matching", count: d.deadLetters.length, group: groups[0]! })}
                        data-testid="redrive-matching"
                      >
                        Redrive all {d.deadLetters.length} matching
                      </button>{" "}
                    </>
                  )}
                  {session.role === "admin" && (
                    <button className="danger" onClick={() => setPending({ kind: "purge" })} data-testid="purge">
                      Purge…
                    </button>
                  )}
                </p>
                <table data-testid="dead-letters">
                  <thead>
                    <tr>
                      <th></th>
                      <th>#</th>
                      <th>group</th>
                      <th>event</th>
                      <th>key</th>
                      <th>origin</th>
                      <th>attempts</th>
                      <th>reason</th>
                      <th>error</th>
                      <th>first / last failure</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.deadLetters.map((x) => (
                      <Fragment key={String(x.dlqSequence)}>
                        <tr data-testid="dead-letter-row">
                          <td>
                            <input
                              type="checkbox"
                              checked={selected.has(x.dlqSequence)}
                              onChange={(e) => {
                                const s = new Set(selected);
                                if (e.target.checked) s.add(x.dlqSequence);
                                else s.delete(x.dlqSequence);
                                setSelected(s);
                              }}
                              data-testid="dead-letter-select"
                            />
                          </td>
                          <td>
                            <button className="link" onClick={() => setOpen(open === x.dlqSequence ? undefined : x.dlqSequence)}>
                              {String(x.dlqSequence)}
                            </button>
                          </td>
                          <td>{x.group}</td>
                          <td>{x.eventName}</td>
                          <td>{x.key}</td>
                          <td>
                            {x.originStream}#{String(x.originSequence)}
                          </td>
                          <td>{x.attempts}</td>
                          <td>{x.reason}</td>
                          <td className="error-text">{x.error}</td>
                          <td>
                            {fmtTime(x.firstFailure)}
                            <br />
                            {fmtTime(x.lastFailure)}
                          </td>
                        </tr>
                        {open === x.dlqSequence && x.event && (
                          <EventDetailRow
                            columns={10}
                            event={x.event}
                            stream={x.originStream || stream}
                            origin={`${stream}_dlq#${x.dlqSequence}`}
                            session={session}
                          />
                        )}
                      </Fragment>
                    ))}
                  </tbody>
                </table>
              </>
            );
          }}
        </StateView>
      )}
      {pending && pending.kind !== "purge" && (
        <Confirm
          title={`Redrive to group ${pending.group}`}
          expected={pending.kind === "selected" ? pending.group : `redrive ${pending.count}`}
          action="Redrive"
          onCancel={() => setPending(undefined)}
          onConfirm={(typed) => {
            setPending(undefined);
            void redrive(pending.group, pending.kind === "selected" ? pending.sequences : [], pending.kind === "selected" ? "" : typed);
          }}
        >
          <p>
            {pending.kind === "selected" ? pending.sequences.length : pending.count} dead letter(s) go back to group {pending.group} only; it handles them like
            new events. Other groups do not see them.
          </p>
        </Confirm>
      )}
      {pending?.kind === "purge" && (
        <Confirm
          title={`Purge dead letters of ${stream}${filter.group ? `/${filter.group}` : ""}`}
          expected={`purge ${stream}${filter.group ? `/${filter.group}` : ""}`}
          action="Purge"
          onCancel={() => setPending(undefined)}
          onConfirm={(typed) => {
            setPending(undefined);
            ops.purgeDeadLetters({ stream, group: filter.group, confirm: typed }).then(
              (r) => {
                setNotice(`Purged ${r.purged} dead letter(s).`);
                reload();
              },
              (err: unknown) => setError(describeError(err)),
            );
          }}
        >
          <p>
            Every dead letter of {filter.group ? `group ${filter.group} in ` : ""}
            {stream}_dlq is deleted for good. Redrive requests in progress are kept.
          </p>
        </Confirm>
      )}
    </section>
  );
}
