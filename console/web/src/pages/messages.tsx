import { Fragment, useState } from "react";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { BrowseMessagesRequestSchema, GetSessionResponse } from "../../../src/gen/chronicle/console/v1/console_pb.js";
import { ops } from "../api.js";
import { EventDetailRow } from "../event-view.js";
import { href, useLoad } from "../hooks.js";
import { StateView, fmtNumber, fmtTime } from "../ui.js";

const FIELDS = ["partition", "event", "key", "header", "value", "from", "since", "until"] as const;

function requestOf(q: URLSearchParams): MessageInitShape<typeof BrowseMessagesRequestSchema> {
  const n = (k: string) => (q.get(k) ? Number(q.get(k)) : undefined);
  return {
    stream: q.get("stream") ?? "",
    ...(n("partition") !== undefined ? { partition: n("partition")! } : {}),
    event: q.get("event") ?? "",
    key: q.get("key") ?? "",
    headerName: q.get("header") ?? "",
    headerValue: q.get("value") ?? "",
    fromSequence: BigInt(q.get("from") ?? 0),
    fromTime: q.get("since") ?? "",
    untilTime: q.get("until") ?? "",
    newest: q.get("newest") === "1",
    beforeSequence: BigInt(q.get("before") ?? 0),
    limit: n("limit") ?? 100,
  };
}

export function MessagesPage({ query, session }: { query: URLSearchParams; session: GetSessionResponse }) {
  const stream = query.get("stream") ?? "";
  const [streams] = useLoad((signal) => ops.listStreams({}, { signal }), []);
  const [form, setForm] = useState<Record<string, string>>(() => Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? ""])));
  const go = (extra: Record<string, string | number | undefined>) => {
    location.hash = href(["messages"], { stream, ...form, ...extra });
  };
  const [page] = useLoad(async (signal) => (stream ? ops.browseMessages(requestOf(query), { signal }) : undefined), [query.toString()]);
  const [open, setOpen] = useState<bigint | undefined>();
  return (
    <section>
      <h1>Messages</h1>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          go({ newest: form["from"] || form["since"] ? undefined : 1 });
        }}
      >
        <label>
          stream{" "}
          <select value={stream} onChange={(e) => (location.hash = href(["messages"], { stream: e.target.value, newest: 1 }))} data-testid="stream-select">
            <option value="">choose…</option>
            {streams.state === "ok" &&
              streams.data.streams
                .filter((s) => !s.deadLetter)
                .map((s) => (
                  <option key={s.name} value={s.name}>
                    {s.name} ({fmtNumber(s.messages)})
                  </option>
                ))}
          </select>
        </label>
        {FIELDS.map((f) => (
          <label key={f}>
            {f === "from" ? "from seq" : f === "value" ? "header value" : f}{" "}
            <input
              value={form[f]}
              size={f === "key" || f === "since" || f === "until" ? 22 : 8}
              placeholder={f === "since" || f === "until" ? "2026-01-31T12:00:00Z" : ""}
              onChange={(e) => setForm({ ...form, [f]: e.target.value })}
              data-testid={`filter-${f}`}
            />
          </label>
        ))}
        <button type="submit" disabled={!stream} data-testid="browse">
          Search
        </button>
      </form>
      {!stream ? (
        <div className="state empty">Choose a stream to read its events.</div>
      ) : (
        <StateView value={page} empty="No events match." isEmpty={(d) => !d || d.events.length === 0}>
          {(d) => (
            <>
              <p className="muted" data-testid="page-info">
                {d!.events.length} event(s), #{fmtNumber(d!.events[0]?.sequence ?? 0n)}–#{fmtNumber(d!.events[d!.events.length - 1]?.sequence ?? 0n)} of #
                {fmtNumber(d!.firstSequence)}–#
                {fmtNumber(d!.lastSequence)}; {fmtNumber(d!.scanned)} read{d!.partial ? "; the scan stopped at its budget: continue with Newer" : ""}.{" "}
                <button disabled={!d!.previousBefore} onClick={() => go({ before: String(d!.previousBefore), newest: 1 })}>
                  ← Older
                </button>{" "}
                <button disabled={!d!.nextSequence} onClick={() => go({ from: String(d!.nextSequence) })} data-testid="newer">
                  Newer →
                </button>
              </p>
              <table data-testid="events">
                <thead>
                  <tr>
                    <th>seq</th>
                    <th>time</th>
                    <th>partition</th>
                    <th>event</th>
                    <th>key</th>
                    <th>schema</th>
                    <th>decoded</th>
                  </tr>
                </thead>
                <tbody>
                  {d!.events.map((e) => (
                    <Fragment key={String(e.sequence)}>
                      <tr className="clickable" onClick={() => setOpen(open === e.sequence ? undefined : e.sequence)} data-testid="event-row">
                        <td>{String(e.sequence)}</td>
                        <td>{fmtTime(e.time)}</td>
                        <td>{e.partition}</td>
                        <td>{e.eventName}</td>
                        <td>{e.key}</td>
                        <td>{e.schemaVersion ? `v${e.schemaVersion}` : "—"}</td>
                        <td>{e.json ? "✓" : <span className="warning">raw</span>}</td>
                      </tr>
                      {open === e.sequence && <EventDetailRow columns={7} event={e} stream={stream} origin={`${stream}#${e.sequence}`} session={session} />}
                    </Fragment>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </StateView>
      )}
    </section>
  );
}
