import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, isAborted } from "./api.js";

/** The states every view shows: loading, an error with its reason, or the data. */
export type Loaded<T> = { state: "loading" } | { state: "error"; error: string } | { state: "ok"; data: T };

/** Runs `load` when `deps` change; `reload` runs it again. A newer load wins over an older one still running. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [value, setValue] = useState<Loaded<T>>({ state: "loading" });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    setValue((v) => (v.state === "ok" ? v : { state: "loading" }));
    load(ac.signal).then(
      (data) => !ac.signal.aborted && setValue({ state: "ok", data }),
      (err: unknown) => !ac.signal.aborted && !isAborted(err) && setValue({ state: "error", error: describeError(err) }),
    );
    return () => ac.abort();
  }, [...deps, tick]);
  return [value, useCallback(() => setTick((t) => t + 1), [])];
}

/**
 * Follows a server stream: `onMessage` for each message; the stream is
 * opened again after a failure (1 s later, then up to 5 s) until the
 * component goes away. Returns the last error, empty while it flows.
 */
export function useStream<M>(open: (signal: AbortSignal) => AsyncIterable<M>, onMessage: (m: M) => void, deps: unknown[]): string {
  const [error, setError] = useState("");
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    const ac = new AbortController();
    let delay = 1000;
    void (async () => {
      while (!ac.signal.aborted) {
        try {
          for await (const m of open(ac.signal)) {
            setError("");
            delay = 1000;
            handler.current(m);
          }
        } catch (err) {
          if (ac.signal.aborted || isAborted(err)) return;
          setError(describeError(err));
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    })();
    return () => ac.abort();
  }, deps);
  return error;
}

/** The part of the hash route after `#/`, split at `/`, and its query. */
export function useRoute(): { parts: string[]; query: URLSearchParams } {
  const read = () => {
    const [path = "", q = ""] = location.hash.replace(/^#\/?/, "").split("?");
    return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

/** A hash link to a route. */
export function href(parts: (string | number)[], query?: Record<string, string | number | undefined>): string {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== "") as [string, string][]).toString() : "";
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join("/")}${q ? `?${q}` : ""}`;
}
