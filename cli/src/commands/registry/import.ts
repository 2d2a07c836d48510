import { ExitCode, UsageError } from "../../framework/command.js";
import { REGISTRY_TOKEN_ENV } from "../../framework/common-options.js";
import { confluentRest, ConfluentRestError, type ConfluentRest } from "./confluent-rest.js";
import type { RegistryImportContext } from "./spec.js";

/** A subject version as Confluent's API answers it. */
interface SourceVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType?: string;
  references?: Array<{ name: string; subject: string; version: number }>;
}

/** What an import did, as the closing summary prints it. */
export interface ImportSummary {
  subjects: number;
  versions: number;
  copied: number;
  skipped: number;
  refused: Array<{ subject: string; version: number; why: string }>;
  configs: number;
  dryRun: boolean;
}

const DEFAULT_TARGET = "http://127.0.0.1:8081";

/** A subject glob (`*` any run of characters, `?` one) as a whole-name regular expression. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

const enc = encodeURIComponent;

/** Confluent's "not found" codes for a subject, a version, a subject's config or mode. */
const isNotFound = (err: unknown) => err instanceof ConfluentRestError && [40401, 40402, 40408, 40409].includes(err.errorCode);

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The order versions are copied in: by id (a registry gives ids as schemas
 * arrive, so references come first), each version only after the earlier
 * versions of its subject and after the versions its references name.
 */
function copyOrder(items: readonly SourceVersion[]): SourceVersion[] {
  const pending = [...items].sort((a, b) => a.id - b.id || a.version - b.version);
  const inSet = new Set(items.map((i) => `${i.subject}\u0000${i.version}`));
  const done = new Set<string>();
  const out: SourceVersion[] = [];
  while (pending.length > 0) {
    const i = pending.findIndex(
      (v) =>
        !pending.some((o) => o.subject === v.subject && o.version < v.version) &&
        (v.references ?? []).every((r) => !inSet.has(`${r.subject}\u0000${r.version}`) || done.has(`${r.subject}\u0000${r.version}`)),
    );
    // a reference cycle cannot be registered anyway: take the lowest id and let the target say why
    const [next] = pending.splice(i < 0 ? 0 : i, 1);
    done.add(`${next!.subject}\u0000${next!.version}`);
    out.push(next!);
  }
  return out;
}

function authorizationOf(token: string | undefined, basic: string | undefined): string | undefined {
  if (token !== undefined && basic !== undefined) throw new UsageError("--token and --basic-auth go to the same source registry: pass one");
  if (basic !== undefined) {
    if (!basic.includes(":")) throw new UsageError("--basic-auth must be USER:PASSWORD");
    return `Basic ${Buffer.from(basic).toString("base64")}`;
  }
  return token === undefined ? undefined : `Bearer ${token}`;
}

/** Reads every live version of the subjects to copy, and each subject's own compatibility level. */
async function readSource(source: ConfluentRest, subjects: readonly string[]) {
  const versions: SourceVersion[] = [];
  const levels = new Map<string, string>();
  for (const subject of subjects) {
    for (const version of await source.get<number[]>(`/subjects/${enc(subject)}/versions`)) {
      versions.push(await source.get<SourceVersion>(`/subjects/${enc(subject)}/versions/${version}`));
    }
    const config = await orUndefined(source.get<{ compatibilityLevel?: string }>(`/config/${enc(subject)}`));
    if (config?.compatibilityLevel) levels.set(subject, config.compatibilityLevel);
  }
  return { versions, levels };
}

/** Runs `chronicle registry import`. */
export async function runRegistryImport(ctx: RegistryImportContext): Promise<number> {
  const v = ctx.values;
  if (!v.from) throw new UsageError("--from URL is required: the registry to copy from");
  const source = confluentRest(v.from, authorizationOf(v.token, v["basic-auth"]));
  const toToken = v["to-token"] ?? process.env[REGISTRY_TOKEN_ENV];
  const target = confluentRest(v.to ?? process.env["CHRONICLE_REGISTRY_URL"] ?? DEFAULT_TARGET, toToken ? `Bearer ${toToken}` : undefined);
  const dryRun = v["dry-run"];
  const matches = globToRegExp(v.subjects);

  let subjects: string[];
  let read: Awaited<ReturnType<typeof readSource>>;
  try {
    subjects = (await source.get<string[]>("/subjects")).filter((s) => matches.test(s)).sort();
    read = await readSource(source, subjects);
  } catch (err) {
    ctx.warn(`registry import: cannot read ${source.url}: ${(err as Error).message}`);
    return ExitCode.CheckFailed;
  }
  const order = copyOrder(read.versions);
  const summary: ImportSummary = { subjects: subjects.length, versions: order.length, copied: 0, skipped: 0, refused: [], configs: 0, dryRun };
  const modesBefore = new Map<string, string | undefined>();

  /** Puts a subject in IMPORT mode on the target (once), remembering its own mode to put back. */
  const importMode = async (subject: string) => {
    if (modesBefore.has(subject)) return;
    const before = await orUndefined(target.get<{ mode: string }>(`/mode/${enc(subject)}`));
    modesBefore.set(subject, before?.mode);
    await target.send("PUT", `/mode/${enc(subject)}`, { mode: "IMPORT" });
  };

  try {
    for (const [n, item] of order.entries()) {
      const label = `[${n + 1}/${order.length}] ${item.subject} version ${item.version} (id ${item.id})`;
      const refuse = (why: string) => {
        summary.refused.push({ subject: item.subject, version: item.version, why });
        ctx.warn(`${label}: refused: ${why}`);
      };
      const type = item.schemaType ?? "AVRO";
      if (type !== "PROTOBUF") {
        refuse(`schemaType ${type}: Chronicle's registry holds Protobuf schemas only`);
        continue;
      }
      try {
        const there = await orUndefined(target.get<{ id: number }>(`/subjects/${enc(item.subject)}/versions/${item.version}?deleted=true`));
        if (there) {
          if (there.id === item.id) {
            summary.skipped++;
            ctx.warn(`${label}: already there`);
          } else refuse(`the target's version ${item.version} of ${item.subject} has id ${there.id}`);
          continue;
        }
        if (dryRun) {
          summary.copied++;
          ctx.warn(`${label}: would be copied`);
          continue;
        }
        await importMode(item.subject);
        await target.send("POST", `/subjects/${enc(item.subject)}/versions`, {
          schema: item.schema,
          schemaType: "PROTOBUF",
          references: item.references ?? [],
          id: item.id,
          version: item.version,
        });
        summary.copied++;
        ctx.warn(`${label}: copied`);
      } catch (err) {
        if (err instanceof ConfluentRestError && err.status !== 0 && err.status < 500) refuse(`${err.errorCode}: ${err.message}`);
        else throw err;
      }
    }
    if (!dryRun) {
      for (const [subject, level] of read.levels) {
        const current = await orUndefined(target.get<{ compatibilityLevel: string }>(`/config/${enc(subject)}`));
        if (current?.compatibilityLevel === level) continue;
        await target.send("PUT", `/config/${enc(subject)}`, { compatibility: level });
        summary.configs++;
        ctx.warn(`${subject}: compatibility ${level}`);
      }
    }
  } catch (err) {
    ctx.warn(`registry import: stopped: ${(err as Error).message}; run the same command again to go on from here`);
    return ExitCode.CheckFailed;
  } finally {
    // put each subject's mode back as it was, even when stopped
    for (const [subject, mode] of modesBefore) {
      await (mode === undefined ? target.send("DELETE", `/mode/${enc(subject)}`) : target.send("PUT", `/mode/${enc(subject)}`, { mode })).catch(
        (err: unknown) => ctx.warn(`registry import: ${subject} stays in IMPORT mode on the target: ${(err as Error).message}`),
      );
    }
  }

  if (v.json) ctx.print(JSON.stringify(summary));
  else {
    ctx.print(
      `${dryRun ? "would copy" : "copied"} ${summary.copied} version(s) of ${summary.subjects} subject(s) from ${source.url} to ${target.url}; ${summary.skipped} already there; ${summary.refused.length} refused; ${summary.configs} compatibility setting(s)`,
    );
    for (const r of summary.refused) ctx.print(`refused ${r.subject} version ${r.version}: ${r.why}`);
  }
  return summary.refused.length > 0 ? ExitCode.CheckFailed : ExitCode.Ok;
}
