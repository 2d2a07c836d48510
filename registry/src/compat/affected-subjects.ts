import type { SchemaIndex } from "./model.js";
import type { HitOwner } from "./rules/rule.js";

/**
 * Which of `subjects` each hit owner affects, in two versions of a schema: a
 * subject is affected by a message or an enum that is in its scope (it, or a
 * message or enum it reaches through field types and nesting, as a
 * subject-scoped check sees it) in either version; by a file that declares
 * it; by a service never. Answers are sorted and cached per owner, and the
 * reverse reachability behind them is built once per version, so the cost
 * is the size of the schemas plus the subjects each owner reaches.
 */
export function affectedSubjects(indexes: readonly SchemaIndex[], subjects: readonly string[]): (owner: HitOwner) => string[] {
  const wanted = new Set(subjects);
  const graphs = indexes.map((index) => ({ index, reachedFrom: undefined as Map<string, string[]> | undefined }));
  const cache = new Map<string, string[]>();
  return (owner) => {
    const key = `${owner.kind}\0${owner.name}`;
    let found = cache.get(key);
    if (found === undefined) {
      const names = new Set<string>();
      for (const graph of graphs) {
        if (owner.kind === "file") {
          for (const [name, message] of graph.index.messages) if (message.file.path === owner.name && wanted.has(name)) names.add(name);
        } else if (owner.kind !== "service") {
          graph.reachedFrom ??= reverseReach(graph.index);
          for (const name of reachersOf(owner.name, graph.reachedFrom)) if (wanted.has(name)) names.add(name);
        }
      }
      found = [...names].sort();
      cache.set(key, found);
    }
    return found;
  };
}

/** For each message or enum, the messages whose scope includes it directly: through a field's type or as a nested type. */
function reverseReach(index: SchemaIndex): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  const add = (target: string, from: string): void => {
    const list = edges.get(target);
    if (list === undefined) edges.set(target, [from]);
    else list.push(from);
  };
  for (const [name, message] of index.messages) {
    for (const f of message.fields) if (f.typeName !== "") add(f.typeName, name);
    for (const n of message.proto.nestedType) add(`${name}.${n.name}`, name);
    for (const e of message.proto.enumType) add(`${name}.${e.name}`, name);
  }
  return edges;
}

/** `start` (when it is a message) and every message that reaches it. */
function reachersOf(start: string, reachedFrom: Map<string, string[]>): Set<string> {
  const seen = new Set<string>([start]);
  const stack = [start];
  for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
    for (const from of reachedFrom.get(name) ?? []) {
      if (seen.has(from)) continue;
      seen.add(from);
      stack.push(from);
    }
  }
  return seen;
}
