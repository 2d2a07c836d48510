import { Node, Project, SyntaxKind, type ObjectLiteralExpression } from "ts-morph";
import { streamNames, type StreamModel } from "@chronicle/codegen";

/** One stub {@link addHandlerStubs} inserted. */
export interface AddedStub {
  /** Generated helper whose argument got the stub (`ordersHandlers`). */
  helper: string;
  /** Event name (`OrderShipped`). */
  event: string;
  /** 1-based line of the stub in the new text. */
  line: number;
}

/** Result of {@link addHandlerStubs}: the new text (identical when nothing was missing) and what was added. */
export interface ScaffoldResult {
  text: string;
  added: AddedStub[];
}

function propertyName(p: Node): string | undefined {
  if (Node.isMethodDeclaration(p) || Node.isPropertyAssignment(p) || Node.isShorthandPropertyAssignment(p)) {
    const name = p.getNameNode();
    return Node.isStringLiteral(name) ? name.getLiteralValue() : name.getText();
  }
  return undefined;
}

function indentOf(text: string, pos: number): string {
  const lineStart = text.lastIndexOf("\n", pos - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function stub(indent: string, event: string, typeName: string): string {
  return [
    `${indent}async ${event}(event, ctx) {`,
    `${indent}  // TODO(chronicle scaffold): handle ${typeName}. Until then the event is retried and then dead-lettered, never lost.`,
    `${indent}  throw new Error(\`${event} \${ctx.id} (key \${ctx.key}) is not handled yet\`);`,
    `${indent}},`,
  ].join("\n");
}

/**
 * Adds a typed stub handler for every event type missing from the object
 * literal passed to a generated exhaustive helper (`ordersHandlers({...})`)
 * in a TypeScript source. Only text is inserted, before the literal's closing
 * brace: the user's code and formatting stay byte for byte, and a second run
 * changes nothing. Stubs throw, so an unhandled event is retried and then
 * dead-lettered rather than acknowledged unseen.
 */
export function addHandlerStubs(fileName: string, sourceText: string, streams: readonly StreamModel[]): ScaffoldResult {
  const helpers = new Map(streams.map((s) => [streamNames(s.settings.name).handlersFn, s]));
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { allowJs: true } });
  const file = project.createSourceFile(fileName, sourceText);
  const edits: (Edit & { helper: string })[] = [];
  for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const callee = call.getExpression();
    const name = Node.isIdentifier(callee) ? callee.getText() : Node.isPropertyAccessExpression(callee) ? callee.getName() : undefined;
    const stream = name === undefined ? undefined : helpers.get(name);
    const arg = call.getArguments()[0];
    if (!stream || !name || !arg || !Node.isObjectLiteralExpression(arg)) continue;
    const edit = planEdit(sourceText, arg, stream);
    if (edit) edits.push({ ...edit, helper: name });
  }
  let text = sourceText;
  const added: AddedStub[] = [];
  for (const e of [...edits].sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  // report lines in the final text, in source order
  for (const e of edits.sort((a, b) => a.start - b.start)) {
    for (const event of e.events) {
      const at = text.indexOf(`async ${event}(event, ctx) {`, 0);
      added.push({ helper: e.helper, event, line: text.slice(0, at).split("\n").length });
    }
  }
  return { text, added };
}

interface Edit {
  /** Replaced range of the original text (empty for an insertion). */
  start: number;
  end: number;
  text: string;
  events: string[];
}

function planEdit(source: string, literal: ObjectLiteralExpression, stream: StreamModel): Edit | undefined {
  const props = literal.getProperties();
  const present = new Set(props.map(propertyName));
  const missing = stream.events.filter((e) => !present.has(e.name));
  if (!missing.length) return undefined;
  const events = missing.map((e) => e.name);
  const last = props[props.length - 1];
  if (!last) {
    // an empty literal: open it onto lines one level deeper than the line it starts on
    const open = literal.getStart();
    const close = literal.getEnd() - 1;
    const base = indentOf(source, open);
    const body = missing.map((e) => stub(`${base}  `, e.name, e.typeName)).join("\n");
    const inner = source.slice(open + 1, close);
    if (inner.trim() === "") return { start: open + 1, end: close, text: `\n${body}\n${base}`, events };
    return { start: close, end: close, text: `${body}\n${base}`, events };
  }
  const indent = indentOf(source, last.getStart());
  const next = last.getNextSibling();
  const hasComma = next?.getKind() === SyntaxKind.CommaToken;
  const at = hasComma ? next!.getEnd() : last.getEnd();
  const body = missing.map((e) => stub(indent, e.name, e.typeName)).join("\n");
  return { start: at, end: at, text: hasComma ? `\n${body}` : `,\n${body.replace(/,$/, "")}`, events };
}
