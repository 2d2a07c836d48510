import { encodeJson, keys, type SubjectRecord } from "../storage/records.js";
import { retryCompareAndSet } from "./compare-and-set.js";
import { checkVersionNumber } from "./input-checks.js";
import type { RegistryContext } from "./registry-context.js";
import { RegistryError } from "./registry-error.js";
import { requireSubject } from "./registry-reads.js";
import { refuseIfReadOnly } from "./settings.js";

/** Writes a subject's record by compare-and-set; false when another writer got there first. */
async function writeRecord(ctx: RegistryContext, subject: string, record: SubjectRecord, revision: number): Promise<boolean> {
  return ctx.replica.update(keys.subject(subject), encodeJson(record), revision);
}

/** Reads a subject's record for a change: from the store itself after a lost race. */
async function recordForChange(ctx: RegistryContext, subject: string, attempt: number) {
  if (attempt > 0) await ctx.replica.refresh(keys.subject(subject));
  return requireSubject(ctx.replica.state, subject);
}

/**
 * Removes schemas no subject refers to any more (after permanent deletes).
 * The copy is first brought up to the store's latest revision, so a version
 * another server registered a moment ago keeps its schema; when that cannot
 * be confirmed, nothing is removed.
 */
async function collectGarbage(ctx: RegistryContext, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  if (!(await ctx.replica.catchUp())) {
    ctx.log(`registry: schemas ${ids.join(", ")} were left in storage: the copy could not be confirmed current`);
    return;
  }
  const referenced = ctx.replica.state.referencedSchemaIds();
  for (const id of new Set(ids)) if (!referenced.has(id)) await ctx.replica.remove(keys.schema(id));
}

/**
 * Soft-deletes a version, or removes a soft-deleted one for good with
 * `permanent` (and its schema when no subject refers to it). @private
 */
export async function deleteVersion(ctx: RegistryContext, subject: string, version: number, permanent: boolean): Promise<void> {
  refuseIfReadOnly(ctx);
  checkVersionNumber(version);
  const removed = await retryCompareAndSet(`deleting ${subject} version ${version}`, ctx.maxCasAttempts, async (attempt) => {
    const { value: record, revision } = await recordForChange(ctx, subject, attempt);
    const v = record.versions.find((x) => x.version === version);
    if (!v) throw new RegistryError("version_not_found", `${subject} version ${version} not found`);
    if (permanent && !v.deleted) throw new RegistryError("not_soft_deleted", `${subject} version ${version} must be soft-deleted before a permanent delete`);
    const versions = permanent ? record.versions.filter((x) => x !== v) : record.versions.map((x) => (x === v ? { ...x, deleted: true } : x));
    if (!(await writeRecord(ctx, subject, { ...record, versions }, revision))) return undefined;
    return permanent ? [v.id] : [];
  });
  await collectGarbage(ctx, removed);
}

/**
 * Soft-deletes every version of a subject, or removes a soft-deleted
 * subject for good with `permanent` (its settings and the schemas no other
 * subject refers to go too; numbering restarts at 1). Returns the versions
 * it deleted. @private
 */
export async function deleteSubject(ctx: RegistryContext, subject: string, permanent: boolean): Promise<number[]> {
  refuseIfReadOnly(ctx);
  const { versions, ids } = await retryCompareAndSet(`deleting ${subject}`, ctx.maxCasAttempts, async (attempt) => {
    const { value: record, revision } = await recordForChange(ctx, subject, attempt);
    if (permanent) {
      const live = record.versions.filter((v) => !v.deleted);
      if (live.length > 0) {
        throw new RegistryError(
          "not_soft_deleted",
          `${subject} has live versions (${live.map((v) => v.version).join(", ")}); soft-delete the subject before a permanent delete`,
        );
      }
      // an empty record is an absent subject
      if (!(await writeRecord(ctx, subject, { versions: [], lastVersion: 0 }, revision))) return undefined;
      return { versions: record.versions.map((v) => v.version), ids: record.versions.map((v) => v.id) };
    }
    const live = record.versions.filter((v) => !v.deleted).map((v) => v.version);
    if (!(await writeRecord(ctx, subject, { ...record, versions: record.versions.map((v) => ({ ...v, deleted: true })) }, revision))) return undefined;
    return { versions: live, ids: [] as string[] };
  });
  if (permanent) await ctx.replica.remove(keys.subjectConfig(subject));
  await collectGarbage(ctx, ids);
  return versions;
}
