import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import { create } from "@bufbuild/protobuf";
import { GetSessionResponseSchema, type Dependency, type GetSessionResponse } from "../../src/gen/chronicle/console/v1/console_pb.js";
import { ops, setToken } from "./api.js";
import { useLoad, useRoute, useStream } from "./hooks.js";
import { AuditPage } from "./pages/audit.js";
import { DeadLettersPage } from "./pages/dead-letters.js";
import { GroupsPage } from "./pages/groups.js";
import { MessagesPage } from "./pages/messages.js";
import { SchemasPage } from "./pages/schemas.js";
import { StreamsPage } from "./pages/streams.js";
import "./styles.css";

const PAGES = [
  ["schemas", "Schemas"],
  ["streams", "Streams"],
  ["messages", "Messages"],
  ["groups", "Consumer groups"],
  ["dead-letters", "Dead letters"],
  ["audit", "Audit log"],
] as const;

/** The banner naming what is unreachable; nothing while everything answers. */
function StatusBanner() {
  const [deps, setDeps] = useState<Dependency[]>([]);
  const error = useStream(
    (signal) => ops.watchStatus({}, { signal }),
    (m) => setDeps(m.dependencies),
    [],
  );
  const down = deps.filter((d) => !d.reachable);
  if (error)
    return (
      <div className="banner" role="alert" data-testid="banner">
        The console itself does not answer: {error}
      </div>
    );
  if (down.length === 0) return null;
  return (
    <div className="banner" role="alert" data-testid="banner">
      {down.map((d) => (
        <div key={d.name}>
          <strong>{d.name === "nats" ? "NATS" : "The schema registry"} is unreachable</strong> since {new Date(d.since).toLocaleTimeString()}: {d.reason}.{" "}
          {d.name === "registry" ? "Schemas cannot be shown and events are shown undecoded." : "Streams, groups and dead letters cannot be read."}
        </div>
      ))}
    </div>
  );
}

function SignIn({ error, onSignIn }: { error: string; onSignIn: () => void }) {
  const [value, setValue] = useState("");
  return (
    <form
      className="signin"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value.trim());
        onSignIn();
      }}
    >
      <h2>Sign in</h2>
      <p>{error}</p>
      <label>
        Console token
        <input type="password" data-testid="token-input" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
      </label>
      <button type="submit" data-testid="sign-in">
        Sign in
      </button>
    </form>
  );
}

function Page({ session }: { session: GetSessionResponse }) {
  const { parts, query } = useRoute();
  const page = parts[0] ?? "schemas";
  switch (page) {
    case "streams":
      return <StreamsPage />;
    case "messages":
      return <MessagesPage query={query} session={session} />;
    case "groups":
      return <GroupsPage parts={parts.slice(1)} session={session} />;
    case "dead-letters":
      return <DeadLettersPage query={query} session={session} />;
    case "audit":
      return <AuditPage />;
    default:
      return <SchemasPage parts={parts.slice(1)} session={session} />;
  }
}

/** Until the session answers: read-only, so no button of a stronger role shows too early. */
const PROVISIONAL = create(GetSessionResponseSchema, { principal: "", role: "read" });

function App() {
  const [session, reload] = useLoad((signal) => ops.getSession({}, { signal }), []);
  const { parts } = useRoute();
  const current = parts[0] ?? "schemas";
  if (session.state === "error" && session.error.includes("sign in")) return <SignIn error={session.error} onSignIn={reload} />;
  return (
    <div className="app">
      <header>
        <span className="brand">Chronicle Console</span>
        <nav>
          {PAGES.map(([id, label]) => (
            <a key={id} href={`#/${id}`} className={current === id ? "active" : ""} data-testid={`nav-${id}`}>
              {label}
            </a>
          ))}
        </nav>
        {session.state === "ok" && (
          <span className="who" data-testid="who">
            {session.data.principal} · {session.data.role}
            <button
              className="link"
              onClick={() => {
                setToken("");
                reload();
              }}
            >
              sign out
            </button>
          </span>
        )}
      </header>
      <StatusBanner />
      <main>
        {/* the page asks for its data while the session loads (one round trip less); buttons follow the role once it is known */}
        {session.state === "loading" && <Page session={PROVISIONAL} />}
        {session.state === "error" && (
          <div className="state error" role="alert">
            {session.error}
          </div>
        )}
        {session.state === "ok" && <Page session={session.data} />}
      </main>
    </div>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
