import { useState } from "react";
import type { BrowsedEvent, GetSessionResponse } from "../../src/gen/chronicle/console/v1/console_pb.js";
import { describeError, ops } from "./api.js";
import { Confirm, ErrorLine, Hex, fmtTime } from "./ui.js";

/** Props of {@link EventDetail}: the event, the stream it is republished to, and where it was read (shown in the title). */
interface EventDetailProps {
  event: BrowsedEvent;
  stream: string;
  origin: string;
  session: GetSessionResponse;
}

/** An opened event under its table row: one cell spanning the table's `columns`. */
export function EventDetailRow({ columns, ...detail }: EventDetailProps & { columns: number }) {
  return (
    <tr>
      <td colSpan={columns}>
        <EventDetail {...detail} />
      </td>
    </tr>
  );
}

/** One event opened: CloudEvents headers, the decoded JSON (or why not), raw bytes on demand, and republishing. */
export function EventDetail({ event, stream, origin, session }: EventDetailProps) {
  const [hex, setHex] = useState(false);
  const [editing, setEditing] = useState(false);
  return (
    <div className="event-detail" data-testid="event-detail">
      <dl>
        <dt>type</dt>
        <dd>{event.type || "—"}</dd>
        <dt>schema</dt>
        <dd>{event.schemaId ? `${event.schemaId.slice(0, 19)}… (v${event.schemaVersion || "?"})` : "—"}</dd>
        <dt>key</dt>
        <dd>{event.key}</dd>
        <dt>partition</dt>
        <dd>{event.partition}</dd>
        <dt>stored</dt>
        <dd>{fmtTime(event.storedAt)}</dd>
      </dl>
      <table className="headers">
        <tbody>
          {Object.entries(event.headers)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => (
              <tr key={k}>
                <td>{k}</td>
                <td>{v}</td>
              </tr>
            ))}
        </tbody>
      </table>
      {event.json ? (
        <pre className="json" data-testid="event-json">
          {event.json}
        </pre>
      ) : (
        <div className="state error" data-testid="decode-error">
          {event.decodeError}
        </div>
      )}
      <button className="link" onClick={() => setHex(!hex)} data-testid="show-hex">
        {hex ? "hide raw bytes" : `raw bytes (${event.data.length})`}
      </button>
      {hex && <Hex data={event.data} />}{" "}
      {(session.role === "write" || session.role === "admin") && event.json && (
        <button onClick={() => setEditing(!editing)} data-testid="edit-republish">
          {editing ? "Close editor" : "Edit and republish"}
        </button>
      )}
      {editing && <Republish event={event} stream={stream} origin={origin} />}
    </div>
  );
}

function Republish({ event, stream, origin }: { event: BrowsedEvent; stream: string; origin: string }) {
  const [json, setJson] = useState(event.json);
  const [key, setKey] = useState(event.key);
  const [error, setError] = useState("");
  const [result, setResult] = useState("");
  const [confirming, setConfirming] = useState(false);
  const request = { stream, eventName: event.eventName, type: event.type, key, json, origin };
  return (
    <div className="card">
      <label>
        key <input value={key} onChange={(e) => setKey(e.target.value)} />
      </label>
      <textarea rows={12} value={json} onChange={(e) => setJson(e.target.value)} data-testid="republish-json" />
      <button onClick={() => setConfirming(true)} data-testid="republish">
        Republish to {stream}
      </button>
      <ErrorLine error={error} />
      {result && <p data-testid="republish-result">{result}</p>}
      {confirming && (
        <Confirm
          title={`Republish ${event.eventName} to ${stream}`}
          expected="republish"
          action="Republish"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            setError("");
            ops.republish(request).then(
              (r) => setResult(`Stored as #${r.sequence} in partition ${r.partition}${r.duplicate ? " (a duplicate)" : ""}.`),
              (err: unknown) => setError(describeError(err)),
            );
          }}
        >
          <p>
            The edited event is checked against {event.type}'s schema and published as a new event (new id) with key {JSON.stringify(key)}. Every group of{" "}
            {stream} will handle it.
          </p>
        </Confirm>
      )}
    </div>
  );
}
