import { useState, type ReactNode } from "react";
import type { Loaded } from "./hooks.js";

/** Shows a view's loading, error and empty states, or its content. */
export function StateView<T>({
  value,
  empty,
  isEmpty,
  children,
}: {
  value: Loaded<T>;
  empty: string;
  isEmpty?: (d: T) => boolean;
  children: (d: T) => ReactNode;
}) {
  if (value.state === "loading")
    return (
      <div className="state loading" data-testid="loading">
        Loading…
      </div>
    );
  if (value.state === "error")
    return (
      <div className="state error" role="alert" data-testid="error">
        {value.error}
      </div>
    );
  if (isEmpty?.(value.data))
    return (
      <div className="state empty" data-testid="empty">
        {empty}
      </div>
    );
  return <>{children(value.data)}</>;
}

export function ErrorLine({ error }: { error: string }) {
  return error ? (
    <div className="state error" role="alert" data-testid="error">
      {error}
    </div>
  ) : null;
}

/** A small line chart of the last values (lag over the last minutes). */
export function Sparkline({ values, width = 160, height = 32, label }: { values: number[]; width?: number; height?: number; label: string }) {
  if (values.length < 2) return <svg className="spark" width={width} height={height} aria-label={label} />;
  const max = Math.max(1, ...values);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(" ");
  return (
    <svg className="spark" width={width} height={height} aria-label={label} role="img">
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

/** Bytes as hex, 16 a line, with an offset column. */
export function Hex({ data }: { data: Uint8Array }) {
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 16) {
    const chunk = Array.from(data.subarray(i, i + 16));
    lines.push(
      `${i.toString(16).padStart(6, "0")}  ${chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ")}`.padEnd(56) +
        chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join(""),
    );
  }
  return <pre className="hex">{lines.join("\n") || "(empty)"}</pre>;
}

/**
 * A destructive action's confirmation: what will happen, and a box where
 * the user types `expected` before the button works.
 */
export function Confirm({
  title,
  children,
  expected,
  action,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  expected: string;
  action: string;
  onConfirm: (typed: string) => void;
  onCancel: () => void;
}) {
  const [typed, setTyped] = useState("");
  return (
    <div className="modal" role="dialog" aria-label={title}>
      <div className="modal-box">
        <h3>{title}</h3>
        {children}
        <label>
          Type <code>{expected}</code> to confirm
          <input data-testid="confirm-input" value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />
        </label>
        <div className="buttons">
          <button onClick={onCancel}>Cancel</button>
          <button className="danger" data-testid="confirm-button" disabled={typed !== expected} onClick={() => onConfirm(typed)}>
            {action}
          </button>
        </div>
      </div>
    </div>
  );
}

export function fmtNumber(n: number | bigint): string {
  return Number(n).toLocaleString("en-US");
}

export function fmtBytes(n: number | bigint): string {
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 ** 2) return `${(v / 1024).toFixed(1)} KiB`;
  if (v < 1024 ** 3) return `${(v / 1024 ** 2).toFixed(1)} MiB`;
  return `${(v / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtTime(iso: string): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");
}
