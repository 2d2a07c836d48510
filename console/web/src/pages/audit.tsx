import { ops } from "../api.js";
import { useLoad } from "../hooks.js";
import { StateView, fmtTime } from "../ui.js";

export function AuditPage() {
  const [list, reload] = useLoad((signal) => ops.listAudit({ limit: 200 }, { signal }), []);
  return (
    <section>
      <h1>
        Audit log <button onClick={reload}>Refresh</button>
      </h1>
      <p className="muted">
        Every destructive action taken through the console: who, what, when, and how it ended. Kept in the JetStream stream chronicle_console_audit.
      </p>
      <StateView value={list} empty="No destructive action has been taken through the console." isEmpty={(d) => d.entries.length === 0}>
        {(d) => (
          <table data-testid="audit">
            <thead>
              <tr>
                <th>when</th>
                <th>who</th>
                <th>action</th>
                <th>target</th>
                <th>outcome</th>
                <th>detail</th>
              </tr>
            </thead>
            <tbody>
              {d.entries.map((e) => (
                <tr key={e.id} className={e.outcome === "failed" ? "warn" : ""} data-testid="audit-row">
                  <td>{fmtTime(e.at)}</td>
                  <td>
                    {e.who} ({e.role})
                  </td>
                  <td>{e.action}</td>
                  <td>{e.target}</td>
                  <td>{e.outcome === "started" ? "started, no result recorded" : e.outcome}</td>
                  <td>{e.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </StateView>
    </section>
  );
}
