import { getOption, hasOption, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { event as eventOption, stream as streamOption, Storage, type StreamOptions } from "../gen/chronicle/v1/options_pb.js";
import { compareDiagnostics, locate, messagePath } from "./diagnostics.js";
import { parseDuration } from "./duration.js";
import { resolveFieldPath } from "./field-path.js";
import { type Diagnostic, type EventModel, type EventModelResult, type SourceLocation, type StreamModel, type StreamSettingsModel } from "./types.js";

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const EXT = 51770; // field number of both extensions in chronicle/v1/options.proto
const EVENT_PATH = [7, EXT]; // MessageOptions (7) > (chronicle.v1.event)
const STREAM_FIELD = { name: 1, partitions: 2, replicas: 3, maxAge: 4, maxBytes: 5, maxMsgs: 6, duplicateWindow: 7, storage: 8 } as const;

/** Checks a stream name; returns the reason it is invalid, or undefined. @private */
export function invalidStreamName(name: string): string | undefined {
  if (!STREAM_NAME.test(name)) return "use 1-64 of the characters A-Z a-z 0-9 _ -";
  if (name.endsWith("_dlq")) return "names ending in _dlq are reserved for dead-letter streams";
  return undefined;
}

/** Lower camel case identifier of a stream name (`order-events` -> `orderEvents`). */
export function streamIdentifier(name: string): string {
  const words = name.split(/[-_]+/).filter(Boolean);
  const id = words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1))).join("");
  return /^[0-9]/.test(id) ? `s${id}` : id;
}

function* allMessages(file: DescFile): Generator<DescMessage> {
  function* walk(m: DescMessage): Generator<DescMessage> {
    yield m;
    for (const n of m.nestedMessages) yield* walk(n);
  }
  for (const m of file.messages) yield* walk(m);
}

interface Declared {
  settings: StreamSettingsModel;
  location: SourceLocation;
}

function at(loc: SourceLocation, message: string): Diagnostic {
  return { file: loc.file, line: loc.line, column: loc.column, message };
}

function where(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** Turns one `(chronicle.v1.stream)` option into settings, reporting each invalid field. */
function readStreamOption(opt: StreamOptions, file: DescFile, index: number, diagnostics: Diagnostic[]): Declared | undefined {
  const loc = (field?: number) => locate(file, field === undefined ? [8, EXT, index] : [8, EXT, index, field]);
  const label = `option (chronicle.v1.stream) "${opt.name}"`;
  const before = diagnostics.length;
  const bad = (field: number, message: string) => diagnostics.push(at(loc(field), message));
  if (opt.name === "") {
    diagnostics.push(at(loc(STREAM_FIELD.name), `option (chronicle.v1.stream) has no name; set name: "<stream>" (1-64 of A-Z a-z 0-9 _ -)`));
    return undefined;
  }
  const nameProblem = invalidStreamName(opt.name);
  if (nameProblem) bad(STREAM_FIELD.name, `${label}: invalid stream name; ${nameProblem}`);
  // proto3 cannot tell 0 or "" from unset: those leave the setting to the runtime's default
  const settings: { -readonly [K in keyof StreamSettingsModel]: StreamSettingsModel[K] } = { name: opt.name };
  if (opt.partitions > 1024) bad(STREAM_FIELD.partitions, `${label}: partitions ${opt.partitions} is out of range; use 1..1024 (0 or unset takes the default)`);
  else if (opt.partitions !== 0) settings.partitions = opt.partitions;
  if (opt.replicas > 5) bad(STREAM_FIELD.replicas, `${label}: replicas ${opt.replicas} is out of range; use 1..5 (0 or unset takes the default)`);
  else if (opt.replicas !== 0) settings.replicas = opt.replicas;
  if (opt.maxAge !== "") {
    const maxAgeMs = parseDuration(opt.maxAge);
    if (maxAgeMs === undefined)
      bad(STREAM_FIELD.maxAge, `${label}: max_age "${opt.maxAge}" is not a duration; write e.g. "90s", "15m", "12h", "30d", or "0" for forever`);
    else settings.maxAgeMs = maxAgeMs;
  }
  const limit = (value: bigint, option: string, field: number): number | undefined => {
    if (value === 0n) return undefined;
    if (value === -1n) return -1;
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      bad(field, `${label}: ${option} ${value} is out of range; use a positive integer, or 0 for no limit`);
      return undefined;
    }
    return Number(value);
  };
  const maxBytes = limit(opt.maxBytes, "max_bytes", STREAM_FIELD.maxBytes);
  if (maxBytes !== undefined) settings.maxBytes = maxBytes;
  const maxMsgs = limit(opt.maxMsgs, "max_msgs", STREAM_FIELD.maxMsgs);
  if (maxMsgs !== undefined) settings.maxMsgs = maxMsgs;
  if (opt.duplicateWindow !== "") {
    const duplicateWindowMs = parseDuration(opt.duplicateWindow);
    if (duplicateWindowMs === undefined || duplicateWindowMs === 0) {
      bad(STREAM_FIELD.duplicateWindow, `${label}: duplicate_window "${opt.duplicateWindow}" is not a positive duration; write e.g. "2m" or "1h"`);
    } else settings.duplicateWindowMs = duplicateWindowMs;
  }
  if (opt.storage === Storage.MEMORY) settings.storage = "memory";
  else if (opt.storage === Storage.FILE) settings.storage = "file";
  else if (opt.storage !== Storage.UNSPECIFIED) {
    bad(STREAM_FIELD.storage, `${label}: storage ${opt.storage} is unknown; use STORAGE_FILE or STORAGE_MEMORY`);
  }
  if (diagnostics.length > before) return undefined;
  return { settings, location: loc() };
}

/** Settings that differ between two declarations; a setting one declares and the other leaves out differs too. */
function settingsDiff(a: StreamSettingsModel, b: StreamSettingsModel): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof StreamSettingsModel)[];
  const shown = (v: unknown) => (v === undefined ? "unset" : String(v));
  return keys.filter((k) => a[k] !== b[k]).map((k) => `${k} ${shown(a[k])} here, ${shown(b[k])} there`);
}

/**
 * Reads Chronicle's options (`(chronicle.v1.stream)` on files,
 * `(chronicle.v1.event)` on messages) from descriptors and builds the event
 * model that the code generator and the CLI share.
 *
 * A stream may be declared once with settings in any file; identical
 * repeated declarations are accepted, conflicting ones are an error. Only
 * declared settings are in the model: the runtime fills the others from its
 * defaults, so a stream that events name but no file declares takes every
 * default. Every invalid
 * option yields a {@link Diagnostic} pointing at the option in its file; when
 * there is any, `streams` is empty, so callers never act on a partial model.
 */
export function buildEventModel(files: readonly DescFile[]): EventModelResult {
  const diagnostics: Diagnostic[] = [];
  const declared = new Map<string, Declared>();
  const sortedFiles = [...files].sort((a, b) => a.proto.name.localeCompare(b.proto.name));

  for (const file of sortedFiles) {
    if (!hasOption(file, streamOption)) continue;
    getOption(file, streamOption).forEach((opt, index) => {
      const decl = readStreamOption(opt, file, index, diagnostics);
      if (!decl) return;
      const prior = declared.get(decl.settings.name);
      if (!prior) {
        declared.set(decl.settings.name, decl);
        return;
      }
      const diff = settingsDiff(decl.settings, prior.settings);
      if (diff.length) {
        diagnostics.push(
          at(
            decl.location,
            `option (chronicle.v1.stream) "${decl.settings.name}" conflicts with its declaration at ${where(prior.location)} (${diff.join("; ")}); declare each stream's settings once`,
          ),
        );
      }
    });
  }

  const events = new Map<string, EventModel[]>();
  for (const file of sortedFiles) {
    for (const desc of allMessages(file)) {
      if (!hasOption(desc, eventOption)) continue;
      const opt = getOption(desc, eventOption);
      const base = [...messagePath(desc), ...EVENT_PATH];
      const location = locate(file, base);
      const fieldAt = (n: number) => locate(file, [...base, n]);
      const label = `option (chronicle.v1.event) of ${desc.name}`;
      const before = diagnostics.length;
      if (opt.stream === "") {
        diagnostics.push(at(location, `${label} has no stream; set stream: "<stream name>"`));
      } else {
        const problem = invalidStreamName(opt.stream);
        if (problem) diagnostics.push(at(fieldAt(1), `${label}: stream "${opt.stream}" is not a valid stream name; ${problem}`));
      }
      const key = opt.key === "" ? undefined : resolveFieldPath(desc, opt.key);
      if (!key) {
        const example = desc.fields.find((f) => f.fieldKind === "scalar" || f.fieldKind === "enum");
        diagnostics.push(at(location, `${label} has no key; set key to the field path of the partition key${example ? `, e.g. key: "${example.name}"` : ""}`));
      } else if (!key.ok) {
        diagnostics.push(at(fieldAt(2), `${label}: key "${opt.key}" is invalid: ${key.reason}`));
      }
      const idem = opt.idempotencyKey === "" ? undefined : resolveFieldPath(desc, opt.idempotencyKey);
      if (idem && !idem.ok) {
        diagnostics.push(at(fieldAt(3), `${label}: idempotency_key "${opt.idempotencyKey}" is invalid: ${idem.reason}`));
      }
      if (diagnostics.length > before || !key?.ok || (idem && !idem.ok)) continue;
      const model: EventModel = {
        name: desc.name,
        typeName: desc.typeName,
        keyPath: opt.key,
        key: key.value,
        desc,
        location,
        ...(idem?.ok ? { idempotencyKeyPath: opt.idempotencyKey, idempotencyKey: idem.value } : {}),
      };
      const list = events.get(opt.stream) ?? [];
      const twin = list.find((e) => e.name === model.name);
      if (twin) {
        diagnostics.push(
          at(
            location,
            `${label}: stream "${opt.stream}" already has an event named ${model.name} (${twin.typeName}); event short names must be unique in a stream, rename one message`,
          ),
        );
        continue;
      }
      list.push(model);
      events.set(opt.stream, list);
    }
  }

  const streams: StreamModel[] = [];
  const identifiers = new Map<string, string>();
  for (const name of [...events.keys()].sort()) {
    const decl = declared.get(name);
    const id = streamIdentifier(name);
    const clash = identifiers.get(id);
    if (clash !== undefined) {
      const first = events.get(name)![0]!;
      diagnostics.push(
        at(
          decl?.location ?? first.location ?? { file: first.desc.file.proto.name, line: 1, column: 1 },
          `stream "${name}" and stream "${clash}" both generate the identifier "${id}"; rename one of them`,
        ),
      );
      continue;
    }
    identifiers.set(id, name);
    streams.push({
      settings: decl?.settings ?? { name },
      events: events.get(name)!,
      ...(decl ? { location: decl.location } : {}),
    });
  }
  diagnostics.sort(compareDiagnostics);
  return diagnostics.length ? { streams: [], diagnostics } : { streams, diagnostics };
}
