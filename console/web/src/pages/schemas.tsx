import { useState } from "react";
import { CompatibilityMode, RuleCategory } from "@chronicle/registry/gen/chronicle/registry/v1/registry_pb.js";
import {
  DiffOp,
  type DiffRow,
  type DryRunResponse,
  type GetSessionResponse,
  type ModeVerdict,
  type ProtoText,
} from "../../../src/gen/chronicle/console/v1/console_pb.js";
import { describeError, ops, registry } from "../api.js";
import { href, useLoad } from "../hooks.js";
import { Confirm, ErrorLine, StateView, fmtTime } from "../ui.js";

const modeName = (m: CompatibilityMode) => CompatibilityMode[m] ?? String(m);
const ruleName = (c: RuleCategory) => RuleCategory[c] ?? String(c);
const MODES = [
  CompatibilityMode.BACKWARD,
  CompatibilityMode.BACKWARD_TRANSITIVE,
  CompatibilityMode.FORWARD,
  CompatibilityMode.FORWARD_TRANSITIVE,
  CompatibilityMode.FULL,
  CompatibilityMode.FULL_TRANSITIVE,
  CompatibilityMode.NONE,
];
const canAdmin = (s: GetSessionResponse) => s.role === "admin";
const canWrite = (s: GetSessionResponse) => s.role === "write" || s.role === "admin";

export function SchemasPage({ parts, session }: { parts: string[]; session: GetSessionResponse }) {
  return parts[0] ? <SubjectView subject={parts[0]} session={session} /> : <SubjectList />;
}

function SubjectList() {
  const [list] = useLoad((signal) => ops.listSchemaSubjects({}, { signal }), []);
  const [filter, setFilter] = useState("");
  return (
    <section>
      <h1>Schemas</h1>
      <StateView value={list} empty="No schemas are registered yet. Push some with chronicle schema push." isEmpty={(d) => d.subjects.length === 0}>
        {(d) => {
          const shown = d.subjects.filter((s) => s.subject.toLowerCase().includes(filter.toLowerCase()));
          return (
            <>
              <p className="muted">
                {d.subjects.length} subject(s); registry default {modeName(d.globalMode)}, {ruleName(d.globalCategory)}.{" "}
                <input placeholder="filter subjects" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="subject-filter" />
              </p>
              <table data-testid="subjects">
                <thead>
                  <tr>
                    <th>subject</th>
                    <th>latest</th>
                    <th>versions</th>
                    <th>mode</th>
                    <th>rules</th>
                    <th>registered</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((s) => (
                    <tr key={s.subject}>
                      <td>
                        <a href={href(["schemas", s.subject])}>{s.subject}</a>
                      </td>
                      <td>v{s.latestVersion}</td>
                      <td>{s.versionCount}</td>
                      <td>
                        {modeName(s.mode)}
                        {s.inherited && <span className="muted"> (default)</span>}
                      </td>
                      <td>{ruleName(s.category)}</td>
                      <td>{fmtTime(s.registeredAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </StateView>
    </section>
  );
}

function SubjectView({ subject, session }: { subject: string; session: GetSessionResponse }) {
  const [info, reload] = useLoad(
    async (signal) => {
      const [versions, config] = await Promise.all([registry.listVersions({ subject }, { signal }), registry.getConfig({ subject }, { signal })]);
      return { versions: versions.versions, config };
    },
    [subject],
  );
  return (
    <section>
      <p>
        <a href="#/schemas">Schemas</a> /
      </p>
      <h1 data-testid="subject-title">{subject}</h1>
      <StateView value={info} empty="This subject has no live versions." isEmpty={(d) => d.versions.length === 0}>
        {(d) => (
          <>
            <Settings
              subject={subject}
              mode={d.config.mode}
              category={d.config.category}
              inherited={d.config.inherited}
              admin={canAdmin(session)}
              onSaved={reload}
            />
            <VersionDiff subject={subject} versions={d.versions} />
            <DryRun subject={subject} write={canWrite(session)} onRegistered={reload} />
          </>
        )}
      </StateView>
    </section>
  );
}

function Settings(props: { subject: string; mode: CompatibilityMode; category: RuleCategory; inherited: boolean; admin: boolean; onSaved: () => void }) {
  const [mode, setMode] = useState(props.mode);
  const [category, setCategory] = useState(props.category);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState("");
  const changed = mode !== props.mode || category !== props.category;
  return (
    <div className="card">
      <h2>Settings</h2>
      <label>
        mode{" "}
        <select value={mode} disabled={!props.admin} onChange={(e) => setMode(Number(e.target.value))} data-testid="mode-select">
          {MODES.map((m) => (
            <option key={m} value={m}>
              {modeName(m)}
            </option>
          ))}
        </select>
      </label>{" "}
      <label>
        rules{" "}
        <select value={category} disabled={!props.admin} onChange={(e) => setCategory(Number(e.target.value))}>
          <option value={RuleCategory.WIRE}>WIRE</option>
          <option value={RuleCategory.WIRE_JSON}>WIRE_JSON</option>
          <option value={RuleCategory.CONFLUENT}>CONFLUENT</option>
        </select>
      </label>{" "}
      {props.inherited && <span className="muted">inherited from the registry's default</span>}{" "}
      {props.admin ? (
        <button disabled={!changed} onClick={() => setConfirming(true)}>
          Save
        </button>
      ) : (
        <span className="muted">(an admin token may change them)</span>
      )}
      <ErrorLine error={error} />
      {confirming && (
        <Confirm
          title={`Change the settings of ${props.subject}`}
          expected={props.subject}
          action="Save settings"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            registry.setConfig({ subject: props.subject, mode, category }).then(
              () => {
                setError("");
                props.onSaved();
              },
              (err: unknown) => setError(describeError(err)),
            );
          }}
        >
          <p>
            New registrations of {props.subject} will be checked under {modeName(mode)} with the {ruleName(category)} rules.
          </p>
        </Confirm>
      )}
    </div>
  );
}

function VersionDiff({ subject, versions }: { subject: string; versions: number[] }) {
  const latest = versions[versions.length - 1]!;
  const [from, setFrom] = useState(versions.length > 1 ? versions[versions.length - 2]! : latest);
  const [to, setTo] = useState(latest);
  const [diff] = useLoad((signal) => ops.diffVersions({ subject, fromVersion: from, toVersion: to }, { signal }), [subject, from, to]);
  const pick = (value: number, set: (n: number) => void, testid: string) => (
    <select value={value} onChange={(e) => set(Number(e.target.value))} data-testid={testid}>
      {versions.map((v) => (
        <option key={v} value={v}>
          v{v}
        </option>
      ))}
    </select>
  );
  return (
    <div className="card">
      <h2>
        Versions: compare {pick(from, setFrom, "from-version")} with {pick(to, setTo, "to-version")}
      </h2>
      <StateView value={diff} empty="">
        {(d) => (
          <Diff left={d.left} right={d.right} rows={d.rows} verdicts={d.verdicts} leftTitle={`v${Math.min(from, to)}`} rightTitle={`v${Math.max(from, to)}`} />
        )}
      </StateView>
    </div>
  );
}

/** Side-by-side .proto text with changed lines marked and each mode's violations on their lines. */
function Diff({
  left,
  right,
  rows,
  verdicts,
  leftTitle,
  rightTitle,
}: {
  left: ProtoText | undefined;
  right: ProtoText | undefined;
  rows: DiffRow[];
  verdicts: ModeVerdict[];
  leftTitle: string;
  rightTitle: string;
}) {
  const [modeIndex, setModeIndex] = useState(0);
  const verdict = verdicts[modeIndex];
  const byRight = new Map<number, ModeVerdict["violations"]>();
  const byLeft = new Map<number, ModeVerdict["violations"]>();
  for (const v of verdict?.violations ?? []) {
    if (v.rightLine) byRight.set(v.rightLine, [...(byRight.get(v.rightLine) ?? []), v]);
    else if (v.leftLine) byLeft.set(v.leftLine, [...(byLeft.get(v.leftLine) ?? []), v]);
  }
  const text = (t: ProtoText | undefined, n: number) => (n ? (t?.lines[n - 1]?.text ?? "") : "");
  return (
    <>
      <div className="verdicts" data-testid="verdicts">
        {verdicts.map((v, i) => (
          <button
            key={v.mode}
            className={`verdict ${v.compatible ? "ok" : "bad"} ${i === modeIndex ? "active" : ""}`}
            onClick={() => setModeIndex(i)}
            data-testid={`verdict-${modeName(v.mode)}`}
          >
            {modeName(v.mode)}
            {i === 0 && " (subject)"}: {v.compatible ? "compatible" : `${v.violations.length} violation(s)`}
          </button>
        ))}
      </div>
      <table className="diff" data-testid="diff">
        <thead>
          <tr>
            <th colSpan={2}>{leftTitle}</th>
            <th colSpan={2}>{rightTitle}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const notes = [
              ...(byRight.get(r.right) ?? []),
              ...(r.right ? [] : (byLeft.get(r.left) ?? [])),
              ...(r.left && r.right ? (byLeft.get(r.left) ?? []) : []),
            ];
            const cls = DiffOp[r.op]?.toLowerCase() ?? "";
            return [
              <tr key={i} className={`row-${cls}`}>
                <td className="ln">{r.left || ""}</td>
                <td className="code left">{text(left, r.left)}</td>
                <td className="ln">{r.right || ""}</td>
                <td className="code right">{text(right, r.right)}</td>
              </tr>,
              ...notes.map((n, j) => (
                <tr key={`${i}-${j}`} className="violation" data-testid="violation">
                  <td colSpan={4}>
                    <code>{n.violation?.rule}</code> {n.violation?.message}{" "}
                    <span className="muted">
                      {n.violation?.path}
                      {n.violation?.location ? ` (${n.violation.location.file}:${n.violation.location.line}:${n.violation.location.column})` : ""}
                      {n.violation?.againstVersion ? ` against v${n.violation.againstVersion}` : ""}
                    </span>
                  </td>
                </tr>
              )),
            ];
          })}
        </tbody>
      </table>
      {verdict && verdict.violations.some((v) => !v.rightLine && !v.leftLine) && (
        <ul>
          {verdict.violations
            .filter((v) => !v.rightLine && !v.leftLine)
            .map((v, i) => (
              <li key={i} className="violation" data-testid="violation">
                <code>{v.violation?.rule}</code> {v.violation?.message}
              </li>
            ))}
        </ul>
      )}
    </>
  );
}

function DryRun({ subject, write, onRegistered }: { subject: string; write: boolean; onRegistered: () => void }) {
  const [name, setName] = useState(`${subject.split(".").slice(0, -1).join("/") || "event"}/event.proto`);
  const [content, setContent] = useState("");
  const [upload, setUpload] = useState<Uint8Array | undefined>();
  const [result, setResult] = useState<DryRunResponse | undefined>();
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [registered, setRegistered] = useState("");
  const check = () => {
    setBusy(true);
    setError("");
    setResult(undefined);
    ops.dryRun(upload ? { subject, descriptorSet: upload } : { subject, files: [{ name, content }] }).then(
      (r) => {
        setResult(r);
        setBusy(false);
      },
      (err: unknown) => {
        setError(describeError(err));
        setBusy(false);
      },
    );
  };
  return (
    <div className="card">
      <h2>Dry run a new version</h2>
      <p className="muted">
        Paste a .proto file (it may import chronicle/v1/options.proto and the well-known types) or upload a descriptor set (buf build -o set.binpb). Nothing is
        registered until you say so.
      </p>
      <label>
        file name <input value={name} onChange={(e) => setName(e.target.value)} size={50} data-testid="dry-run-name" />
      </label>
      <textarea rows={10} value={content} onChange={(e) => setContent(e.target.value)} placeholder='syntax = "proto3"; ...' data-testid="dry-run-proto" />
      <label>
        or a descriptor set{" "}
        <input
          type="file"
          accept=".binpb,.pb,.bin"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void f.arrayBuffer().then((b) => setUpload(new Uint8Array(b)));
            else setUpload(undefined);
          }}
        />
      </label>{" "}
      <button disabled={busy || (!content && !upload)} onClick={check} data-testid="dry-run-check">
        {busy ? "Checking…" : "Check"}
      </button>
      <ErrorLine error={error} />
      {result && (
        <div data-testid="dry-run-result">
          <p>
            Would be {result.existingVersion ? `version ${result.existingVersion} again (already registered)` : `version ${result.latestVersion + 1}`} with id{" "}
            <code>{result.id.slice(0, 19)}…</code>. Under the subject's mode ({modeName(result.subjectMode)}):{" "}
            <strong>{result.verdicts[0]?.compatible ? "compatible" : "refused"}</strong>.
          </p>
          {write && result.verdicts[0]?.compatible && !result.existingVersion && (
            <button onClick={() => setConfirming(true)} data-testid="register">
              Register as version {result.latestVersion + 1}
            </button>
          )}
          {registered && <p data-testid="registered">{registered}</p>}
          <Diff
            left={result.left}
            right={result.right}
            rows={result.rows}
            verdicts={result.verdicts}
            leftTitle={result.latestVersion ? `v${result.latestVersion}` : "(none)"}
            rightTitle="candidate"
          />
        </div>
      )}
      {confirming && result && (
        <Confirm
          title={`Register a new version of ${subject}`}
          expected={subject}
          action="Register"
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            registry.register({ subject, schema: result.schema }).then(
              (r) => {
                setRegistered(`Registered as version ${r.version}.`);
                onRegistered();
              },
              (err: unknown) => setError(describeError(err)),
            );
          }}
        >
          <p>
            Producers and consumers will see version {result.latestVersion + 1} of {subject}.
          </p>
        </Confirm>
      )}
    </div>
  );
}
