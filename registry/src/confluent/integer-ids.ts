import type { EdgeRecords } from "../service/registry.js";
import { retryCompareAndSet } from "../service/compare-and-set.js";
import { RegistryError } from "../service/registry-error.js";

/** A schema reference as Confluent's API names it: an import path and the subject version that holds the file. */
export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** What an integer id stands for: a content id and the references the schema was first registered with. */
interface IdRecord {
  schemaId: string;
  references: SchemaReference[];
}

const ID_PREFIX = "edge.confluent.ids.";
const HASH_PREFIX = "edge.confluent.hashes.";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const hexOf = (schemaId: string) => schemaId.slice("sha256:".length);

/**
 * Confluent's integer schema ids, mapped one-to-one to Chronicle's content
 * ids and kept in the registry's bucket, so every server and every restart
 * answers the same number for the same schema.
 *
 * Two records make the mapping: `edge.confluent.ids.<n>` claims a number
 * for a content id (created only if absent, so no number is given twice)
 * and `edge.confluent.hashes.<hex>` settles the number of a content id
 * (created only if absent, so a content id gets one number). A number
 * claimed by a server that then lost the second step, or stopped between
 * the two, is never answered for (its content id names another number):
 * numbers may have gaps, as Confluent's do.
 */
export interface IntegerIds {
  /** The number of a content id; undefined when none was assigned. */
  numberOf(schemaId: string): number | undefined;
  /** The content id and first references of a number; undefined when the number is not assigned. */
  lookup(id: number): IdRecord | undefined;
  /**
   * The number of `schemaId`, assigning the next free one (or `wanted`, for
   * an import keeping a registry's ids) when it has none. Throws
   * `invalid_schema_id` when `wanted` belongs to another schema or the
   * schema already has another number.
   */
  assign(schemaId: string, references: SchemaReference[], wanted?: number): Promise<number>;
}

/** Integer ids kept in `records`. @private */
export function createIntegerIds(records: EdgeRecords, maxAttempts = 64): IntegerIds {
  const numberOf = (schemaId: string): number | undefined => {
    const found = records.get(HASH_PREFIX + hexOf(schemaId));
    return found ? Number(decoder.decode(found.value)) : undefined;
  };
  const claim = (id: number): IdRecord | undefined => {
    const found = records.get(ID_PREFIX + id);
    return found ? (JSON.parse(decoder.decode(found.value)) as IdRecord) : undefined;
  };
  const lookup = (id: number): IdRecord | undefined => {
    const record = claim(id);
    return record && numberOf(record.schemaId) === id ? record : undefined;
  };
  const highest = () => records.keys(ID_PREFIX).reduce((max, k) => Math.max(max, Number(k.slice(ID_PREFIX.length))), 0);

  const settle = async (schemaId: string, id: number): Promise<number> => {
    const key = HASH_PREFIX + hexOf(schemaId);
    if (await records.create(key, encoder.encode(String(id)))) return id;
    await records.refresh(key);
    return numberOf(schemaId)!;
  };

  return {
    numberOf,
    lookup,
    async assign(schemaId, references, wanted) {
      const known = numberOf(schemaId);
      if (known !== undefined) {
        if (wanted !== undefined && wanted !== known) throw new RegistryError("invalid_schema_id", `schema ${schemaId} already has id ${known}, not ${wanted}`);
        return known;
      }
      const value = encoder.encode(JSON.stringify({ schemaId, references } satisfies IdRecord));
      if (wanted !== undefined) {
        if (!Number.isSafeInteger(wanted) || wanted < 1) throw new RegistryError("invalid_schema_id", `id ${wanted} is not a positive integer`);
        const held = claim(wanted);
        if (held && held.schemaId !== schemaId)
          throw new RegistryError("invalid_schema_id", `id ${wanted} already belongs to another schema (${held.schemaId})`);
        if (!held && !(await records.create(ID_PREFIX + wanted, value))) {
          await records.refresh(ID_PREFIX + wanted);
          if (claim(wanted)?.schemaId !== schemaId) throw new RegistryError("invalid_schema_id", `id ${wanted} already belongs to another schema`);
        }
        const settled = await settle(schemaId, wanted);
        if (settled !== wanted) throw new RegistryError("invalid_schema_id", `schema ${schemaId} already has id ${settled}, not ${wanted}`);
        return settled;
      }
      // a number this schema claimed before (a server stopped between the two steps) is settled, not claimed again
      const orphan = records.keys(ID_PREFIX).find((k) => claim(Number(k.slice(ID_PREFIX.length)))?.schemaId === schemaId);
      if (orphan) return settle(schemaId, Number(orphan.slice(ID_PREFIX.length)));
      const id = await retryCompareAndSet(`assigning an id to ${schemaId}`, maxAttempts, async (attempt) => {
        const next = highest() + 1 + attempt;
        return (await records.create(ID_PREFIX + next, value)) ? next : undefined;
      });
      return settle(schemaId, id);
    },
  };
}
