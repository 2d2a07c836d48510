import type { EnumNode, FieldNode, MessageNode, SchemaIndex } from "../model.js";
import type { Pairs, RuleContext, Scope } from "./rule.js";

/**
 * Pair messages and enums by full name, fields by number within paired
 * messages, extensions by (extendee, number); within `scope` when given
 * (extensions are then left out).
 */
export function pairElements(prev: SchemaIndex, cur: SchemaIndex, scope: Scope | undefined): Pairs {
  const messages: [MessageNode, MessageNode][] = [];
  const enums: [EnumNode, EnumNode][] = [];
  const fields: [FieldNode, FieldNode][] = [];
  const messageNames = scope === undefined ? prev.messages.keys() : scope.messages.values();
  for (const name of messageNames) {
    const p = prev.messages.get(name);
    const c = cur.messages.get(name);
    if (p === undefined || c === undefined) continue;
    messages.push([p, c]);
    for (const [number, pf] of p.byNumber) {
      const cf = c.byNumber.get(number);
      if (cf !== undefined) fields.push([pf, cf]);
    }
  }
  const enumNames = scope === undefined ? prev.enums.keys() : scope.enums.values();
  for (const name of enumNames) {
    const p = prev.enums.get(name);
    const c = cur.enums.get(name);
    if (p !== undefined && c !== undefined) enums.push([p, c]);
  }
  if (scope === undefined) {
    for (const [extendee, prevByNumber] of prev.extensions) {
      const curByNumber = cur.extensions.get(extendee);
      if (curByNumber === undefined) continue;
      for (const [number, pf] of prevByNumber) {
        const cf = curByNumber.get(number);
        if (cf !== undefined) fields.push([pf, cf]);
      }
    }
  }
  return { messages, enums, fields };
}

/** The same pairs with the roles swapped. */
export function swapPairs(pairs: Pairs): Pairs {
  return {
    messages: pairs.messages.map(([a, b]) => [b, a]),
    enums: pairs.enums.map(([a, b]) => [b, a]),
    fields: pairs.fields.map(([a, b]) => [b, a]),
  };
}

/** Calls `fn` with each pair of messages of the check, in Buf's roles (previous, current). */
export function forEachMessagePair(ctx: RuleContext, fn: (prev: MessageNode, cur: MessageNode) => void): void {
  for (const [p, c] of ctx.pairs.messages) fn(p, c);
}

/** Calls `fn` with each pair of enums of the check. */
export function forEachEnumPair(ctx: RuleContext, fn: (prev: EnumNode, cur: EnumNode) => void): void {
  for (const [p, c] of ctx.pairs.enums) fn(p, c);
}

/** Calls `fn` with each pair of fields (and extensions) of the check. */
export function forEachFieldPair(ctx: RuleContext, fn: (prev: FieldNode, cur: FieldNode) => void): void {
  for (const [p, c] of ctx.pairs.fields) fn(p, c);
}
