import type { GeneratedFile } from "@bufbuild/protoplugin";
import { getComments } from "@bufbuild/protoplugin";
import type { EventModel, StreamModel } from "../model/types.js";
import { keyExpression } from "./key-expression.js";
import { streamNames, type StreamNames } from "./names.js";

const RUNTIME = "@chronicle/runtime";

/** Leading proto comment of an event without the space after `//`, or "". */
function protoComment(event: EventModel): string {
  const text = getComments(event.desc).leading ?? "";
  return text
    .split("\n")
    .map((l) => l.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
}

function eventDoc(event: EventModel, what: string): string {
  const comment = protoComment(event);
  return [what, comment ? `\n${comment}` : "", `\n@generated from event ${event.typeName} (key: ${event.keyPath})`].join("\n").replace(/\n{3,}/g, "\n\n");
}

/** The declared settings in the order and units of the runtime's `StreamSettings`. */
const SETTING_KEYS = ["partitions", "replicas", "maxAgeMs", "maxBytes", "maxMsgs", "duplicateWindowMs", "storage"] as const;

/** Symbols the generated code imports, each imported (once) on first use by the file. */
function importSymbols(f: GeneratedFile) {
  return {
    defineStream: f.import("defineStream", RUNTIME),
    StreamDefinition: f.import("StreamDefinition", RUNTIME, true),
    ChronicleConnection: f.import("ChronicleConnection", RUNTIME, true),
    createProducer: f.import("createProducer", RUNTIME),
    Producer: f.import("Producer", RUNTIME, true),
    PublishOptions: f.import("PublishOptions", RUNTIME, true),
    PublishResult: f.import("PublishResult", RUNTIME, true),
    CloseReport: f.import("CloseReport", RUNTIME, true),
    ExhaustiveHandlers: f.import("ExhaustiveHandlers", RUNTIME, true),
    PartialHandlers: f.import("PartialHandlers", RUNTIME, true),
    startConsumerGroup: f.import("startConsumerGroup", RUNTIME),
    MessageInitShape: f.import("MessageInitShape", "@bufbuild/protobuf", true),
    MessageShape: f.import("MessageShape", "@bufbuild/protobuf", true),
  };
}

/** What the printers of one stream share. */
interface StreamPrinter {
  readonly f: GeneratedFile;
  readonly stream: StreamModel;
  readonly names: StreamNames;
  readonly symbols: ReturnType<typeof importSymbols>;
  /** The stream's event names, comma-separated (for docs). */
  readonly eventList: string;
  readonly schemaIds: ReadonlyMap<string, string>;
}

/**
 * Prints everything generated for one stream into `f`: the event types,
 * the stream definition, the typed producer, the handler types and the
 * consumer start. `schemaIds` maps event full names to their registry
 * schema ids (for `ce-dataschema`).
 */
export function generateStream(f: GeneratedFile, stream: StreamModel, schemaIds: ReadonlyMap<string, string>): void {
  const p: StreamPrinter = {
    f,
    stream,
    names: streamNames(stream.settings.name),
    symbols: importSymbols(f),
    eventList: stream.events.map((e) => e.name).join(", "),
    schemaIds,
  };
  printEventTypes(p);
  printDefinition(p);
  printProducer(p);
  printConsumer(p);
  printEventType(p);
}

/** The map of the stream's event names to their protobuf-es schemas. */
function printEventTypes(p: StreamPrinter): void {
  const s = p.stream.settings;
  p.f.print(p.f.jsDoc(`Event types of stream "${s.name}" by name, each with its protobuf-es schema.`));
  p.f.print(p.f.export("type", p.names.events), " = {");
  for (const e of p.stream.events) p.f.print("  ", e.name, ": typeof ", p.f.importSchema(e.desc), ";");
  p.f.print("};");
  p.f.print();
}

/** The stream definition: declared settings, and per event its schema, key, idempotency key and schema id. */
function printDefinition(p: StreamPrinter): void {
  const s = p.stream.settings;
  const declared = SETTING_KEYS.filter((k) => s[k] !== undefined);
  const settingsDoc = [
    `Stream "${s.name}"${declared.length ? ` (${declared.map((k) => `${k} ${String(s[k])}`).join(", ")}; other settings: the runtime's defaults)` : " (every setting: the runtime's defaults)"}.`,
    `Events: ${p.eventList}.`,
    "",
    "Pass it to the runtime (`ensureStream`, `createProducer`, `startConsumerGroup`, replay) or use the typed helpers below.",
  ].join("\n");
  p.f.print(p.f.jsDoc(settingsDoc));
  p.f.print(
    p.f.export("const", p.names.definition),
    ": ",
    p.symbols.StreamDefinition,
    "<",
    p.names.events,
    "> = ",
    p.symbols.defineStream,
    "<",
    p.names.events,
    ">(",
  );
  p.f.print("  {");
  p.f.print("    name: ", p.f.string(s.name), ",");
  for (const k of declared) {
    const v = s[k]!;
    p.f.print("    ", k, ": ", typeof v === "string" ? p.f.string(v) : v, ",");
  }
  p.f.print("  },");
  p.f.print("  {");
  for (const e of p.stream.events) {
    p.f.print("    ", e.name, ": {");
    p.f.print("      schema: ", p.f.importSchema(e.desc), ",");
    p.f.print("      name: ", p.f.string(e.name), ",");
    p.f.print("      type: ", p.f.string(e.typeName), ",");
    p.f.print("      keyPath: ", p.f.string(e.keyPath), ",");
    p.f.print("      key: (e) => ", keyExpression(e.key), ",");
    if (e.idempotencyKey && e.idempotencyKeyPath !== undefined) {
      p.f.print("      idempotencyKeyPath: ", p.f.string(e.idempotencyKeyPath), ",");
      p.f.print("      idempotencyKey: (e) => ", keyExpression(e.idempotencyKey), ",");
    }
    const id = p.schemaIds.get(e.typeName);
    if (id !== undefined) p.f.print("      schemaId: ", p.f.string(id), ",");
    p.f.print("    },");
  }
  p.f.print("  },");
  p.f.print(");");
  p.f.print();
}

/** The typed producer: its options, its interface (one publish method per event) and its factory. */
function printProducer(p: StreamPrinter): void {
  const s = p.stream.settings;
  p.f.print(p.f.jsDoc(`Options of {@link ${p.names.createProducer}}: the runtime's producer options (window, timeouts, source, tracing).`));
  p.f.print(p.f.export("type", p.names.producerOptions), " = NonNullable<Parameters<typeof ", p.symbols.createProducer, "<", p.names.events, ">>[2]>;");
  p.f.print();
  p.f.print(
    p.f.jsDoc(
      `A typed producer for stream "${s.name}": one method per event type. Publishes are pipelined; each promise resolves once the server has stored the event (or recognised its dedup key as a duplicate).`,
    ),
  );
  p.f.print(p.f.export("interface", p.names.producer), " {");
  for (const e of p.stream.events) {
    p.f.print(
      p.f.jsDoc(
        eventDoc(
          e,
          `Publishes one ${e.name} event to stream "${s.name}". \`options\` can set an explicit dedup key, extra headers, or the expected last sequence of the key.`,
        ),
        "  ",
      ),
    );
    p.f.print(
      "  publish",
      e.name,
      "(event: ",
      p.symbols.MessageInitShape,
      "<typeof ",
      p.f.importSchema(e.desc),
      ">, options?: ",
      p.symbols.PublishOptions,
      "): Promise<",
      p.symbols.PublishResult,
      ">;",
    );
  }
  p.f.print(p.f.jsDoc("The runtime producer underneath, for `publishBatch` and anything generic.", "  "));
  p.f.print("  readonly producer: ", p.symbols.Producer, "<", p.names.events, ">;");
  p.f.print(p.f.jsDoc("Waits until every publish started so far has settled.", "  "));
  p.f.print("  flush(): Promise<void>;");
  p.f.print(p.f.jsDoc("Stops accepting publishes, waits for those in flight, and reports failures.", "  "));
  p.f.print("  close(): Promise<", p.symbols.CloseReport, ">;");
  p.f.print("}");
  p.f.print();
  p.f.print(
    p.f.jsDoc(
      `Creates a typed producer for stream "${s.name}" on a connection (the stream must exist: provision it with \`chronicle streams apply\` or the runtime's \`ensureStream\`).`,
    ),
  );
  p.f.print(
    p.f.export("function", p.names.createProducer),
    "(conn: ",
    p.symbols.ChronicleConnection,
    ", options?: ",
    p.names.producerOptions,
    "): ",
    p.names.producer,
    " {",
  );
  p.f.print("  const producer = ", p.symbols.createProducer, "(conn, ", p.names.definition, ", options);");
  p.f.print("  return {");
  p.f.print("    producer,");
  for (const e of p.stream.events) p.f.print("    publish", e.name, ": (event, options) => producer.publish(", p.f.string(e.name), ", event, options),");
  p.f.print("    flush: () => producer.flush(),");
  p.f.print("    close: () => producer.close(),");
  p.f.print("  };");
  p.f.print("}");
  p.f.print();
}

/** The handler types, their declaring functions, and the typed consumer-group start. */
function printConsumer(p: StreamPrinter): void {
  const s = p.stream.settings;
  p.f.print(
    p.f.jsDoc(
      `Handlers for every event type of stream "${s.name}": the compiler demands one per event type, so adding an event to the stream breaks the build until it is handled (\`chronicle scaffold\` adds stubs).`,
    ),
  );
  p.f.print(p.f.export("type", p.names.handlers), " = ", p.symbols.ExhaustiveHandlers, "<", p.names.events, ">;");
  p.f.print();
  p.f.print(p.f.jsDoc(`Handlers for some event types of stream "${s.name}"; events without one are acknowledged and skipped.`));
  p.f.print(p.f.export("type", p.names.partialHandlers), " = ", p.symbols.PartialHandlers, "<", p.names.events, ">;");
  p.f.print();
  p.f.print(
    p.f.jsDoc(`Declares handlers for every event type of stream "${s.name}" (${p.eventList}); a missing one is a compile error. Returns its argument.`),
  );
  p.f.print(p.f.export("function", p.names.handlersFn), "(handlers: ", p.names.handlers, "): ", p.names.handlers, " {");
  p.f.print("  return handlers;");
  p.f.print("}");
  p.f.print();
  p.f.print(p.f.jsDoc(`Declares handlers for some event types of stream "${s.name}"; the others are acknowledged and skipped. Returns its argument.`));
  p.f.print(p.f.export("function", p.names.partialHandlersFn), "(handlers: ", p.names.partialHandlers, "): ", p.names.partialHandlers, " {");
  p.f.print("  return handlers;");
  p.f.print("}");
  p.f.print();
  p.f.print(
    p.f.jsDoc(
      `Options of {@link ${p.names.startConsumer}}: the runtime's consumer-group options (\`group\`, \`handlers\`, idempotency store, retries, ...) for stream "${s.name}".`,
    ),
  );
  p.f.print(p.f.export("type", p.names.consumerOptions), " = Parameters<typeof ", p.symbols.startConsumerGroup, "<", p.names.events, ">>[2];");
  p.f.print();
  p.f.print(
    p.f.jsDoc(
      `Joins consumer group \`options.group\` on stream "${s.name}": partitions spread over the group's live members, each event runs its handler once per idempotency key (at-least-once delivery, idempotent effects), failures retry and then go to the dead-letter stream.\n\nBuild \`options.handlers\` with {@link ${p.names.handlersFn}} (every event type) or {@link ${p.names.partialHandlersFn}} (some).`,
    ),
  );
  p.f.print(
    p.f.export("function", p.names.startConsumer),
    "(conn: ",
    p.symbols.ChronicleConnection,
    ", options: ",
    p.names.consumerOptions,
    "): ReturnType<typeof ",
    p.symbols.startConsumerGroup,
    "<",
    p.names.events,
    ">> {",
  );
  p.f.print("  return ", p.symbols.startConsumerGroup, "(conn, ", p.names.definition, ", options);");
  p.f.print("}");
  p.f.print();
}

/** The decoded event type of the stream, by event name, as handlers receive it. */
function printEventType(p: StreamPrinter): void {
  const s = p.stream.settings;
  p.f.print(p.f.jsDoc(`A decoded event of stream "${s.name}", as handlers receive it, by event name.`));
  p.f.print(
    p.f.export("type", `${p.names.events.replace(/Events$/, "")}Event`),
    "<K extends keyof ",
    p.names.events,
    " = keyof ",
    p.names.events,
    "> = ",
    p.symbols.MessageShape,
    "<",
    p.names.events,
    "[K]>;",
  );
  p.f.print();
}
