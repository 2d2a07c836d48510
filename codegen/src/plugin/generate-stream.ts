import type { GeneratedFile } from "@bufbuild/protoplugin";
import { getComments } from "@bufbuild/protoplugin";
import type { EventModel, StreamModel } from "../model/types.js";
import { keyExpression } from "./key-expression.js";
import { streamNames } from "./names.js";

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

/**
 * Prints everything generated for one stream into `f`. `schemaIds` maps
 * event full names to their registry schema ids (for `ce-dataschema`).
 */
export function generateStream(f: GeneratedFile, stream: StreamModel, schemaIds: ReadonlyMap<string, string>): void {
  const n = streamNames(stream.settings.name);
  const s = stream.settings;
  const rt = {
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
  const names = stream.events.map((e) => e.name).join(", ");

  f.print(f.jsDoc(`Event types of stream "${s.name}" by name, each with its protobuf-es schema.`));
  f.print(f.export("type", n.events), " = {");
  for (const e of stream.events) f.print("  ", e.name, ": typeof ", f.importSchema(e.desc), ";");
  f.print("};");
  f.print();

  const declared = SETTING_KEYS.filter((k) => s[k] !== undefined);
  const settingsDoc = [
    `Stream "${s.name}"${declared.length ? ` (${declared.map((k) => `${k} ${String(s[k])}`).join(", ")}; other settings: the runtime's defaults)` : " (every setting: the runtime's defaults)"}.`,
    `Events: ${names}.`,
    "",
    "Pass it to the runtime (`ensureStream`, `createProducer`, `startConsumerGroup`, replay) or use the typed helpers below.",
  ].join("\n");
  f.print(f.jsDoc(settingsDoc));
  f.print(f.export("const", n.definition), ": ", rt.StreamDefinition, "<", n.events, "> = ", rt.defineStream, "<", n.events, ">(");
  f.print("  {");
  f.print("    name: ", f.string(s.name), ",");
  for (const k of declared) {
    const v = s[k]!;
    f.print("    ", k, ": ", typeof v === "string" ? f.string(v) : v, ",");
  }
  f.print("  },");
  f.print("  {");
  for (const e of stream.events) {
    f.print("    ", e.name, ": {");
    f.print("      schema: ", f.importSchema(e.desc), ",");
    f.print("      name: ", f.string(e.name), ",");
    f.print("      type: ", f.string(e.typeName), ",");
    f.print("      keyPath: ", f.string(e.keyPath), ",");
    f.print("      key: (e) => ", keyExpression(e.key), ",");
    if (e.idempotencyKey && e.idempotencyKeyPath !== undefined) {
      f.print("      idempotencyKeyPath: ", f.string(e.idempotencyKeyPath), ",");
      f.print("      idempotencyKey: (e) => ", keyExpression(e.idempotencyKey), ",");
    }
    const id = schemaIds.get(e.typeName);
    if (id !== undefined) f.print("      schemaId: ", f.string(id), ",");
    f.print("    },");
  }
  f.print("  },");
  f.print(");");
  f.print();

  // Producer
  f.print(f.jsDoc(`Options of {@link ${n.createProducer}}: the runtime's producer options (window, timeouts, source, tracing).`));
  f.print(f.export("type", n.producerOptions), " = NonNullable<Parameters<typeof ", rt.createProducer, "<", n.events, ">>[2]>;");
  f.print();
  f.print(
    f.jsDoc(
      `A typed producer for stream "${s.name}": one method per event type. Publishes are pipelined; each promise resolves once the server has stored the event (or recognised its dedup key as a duplicate).`,
    ),
  );
  f.print(f.export("interface", n.producer), " {");
  for (const e of stream.events) {
    f.print(
      f.jsDoc(
        eventDoc(
          e,
          `Publishes one ${e.name} event to stream "${s.name}". \`options\` can set an explicit dedup key, extra headers, or the expected last sequence of the key.`,
        ),
        "  ",
      ),
    );
    f.print(
      "  publish",
      e.name,
      "(event: ",
      rt.MessageInitShape,
      "<typeof ",
      f.importSchema(e.desc),
      ">, options?: ",
      rt.PublishOptions,
      "): Promise<",
      rt.PublishResult,
      ">;",
    );
  }
  f.print(f.jsDoc("The runtime producer underneath, for `publishBatch` and anything generic.", "  "));
  f.print("  readonly producer: ", rt.Producer, "<", n.events, ">;");
  f.print(f.jsDoc("Waits until every publish started so far has settled.", "  "));
  f.print("  flush(): Promise<void>;");
  f.print(f.jsDoc("Stops accepting publishes, waits for those in flight, and reports failures.", "  "));
  f.print("  close(): Promise<", rt.CloseReport, ">;");
  f.print("}");
  f.print();
  f.print(
    f.jsDoc(
      `Creates a typed producer for stream "${s.name}" on a connection (the stream must exist: provision it with \`chronicle streams apply\` or the runtime's \`ensureStream\`).`,
    ),
  );
  f.print(f.export("function", n.createProducer), "(conn: ", rt.ChronicleConnection, ", options?: ", n.producerOptions, "): ", n.producer, " {");
  f.print("  const producer = ", rt.createProducer, "(conn, ", n.definition, ", options);");
  f.print("  return {");
  f.print("    producer,");
  for (const e of stream.events) f.print("    publish", e.name, ": (event, options) => producer.publish(", f.string(e.name), ", event, options),");
  f.print("    flush: () => producer.flush(),");
  f.print("    close: () => producer.close(),");
  f.print("  };");
  f.print("}");
  f.print();

  // Consumer
  f.print(
    f.jsDoc(
      `Handlers for every event type of stream "${s.name}": the compiler demands one per event type, so adding an event to the stream breaks the build until it is handled (\`chronicle scaffold\` adds stubs).`,
    ),
  );
  f.print(f.export("type", n.handlers), " = ", rt.ExhaustiveHandlers, "<", n.events, ">;");
  f.print();
  f.print(f.jsDoc(`Handlers for some event types of stream "${s.name}"; events without one are acknowledged and skipped.`));
  f.print(f.export("type", n.partialHandlers), " = ", rt.PartialHandlers, "<", n.events, ">;");
  f.print();
  f.print(f.jsDoc(`Declares handlers for every event type of stream "${s.name}" (${names}); a missing one is a compile error. Returns its argument.`));
  f.print(f.export("function", n.handlersFn), "(handlers: ", n.handlers, "): ", n.handlers, " {");
  f.print("  return handlers;");
  f.print("}");
  f.print();
  f.print(f.jsDoc(`Declares handlers for some event types of stream "${s.name}"; the others are acknowledged and skipped. Returns its argument.`));
  f.print(f.export("function", n.partialHandlersFn), "(handlers: ", n.partialHandlers, "): ", n.partialHandlers, " {");
  f.print("  return handlers;");
  f.print("}");
  f.print();
  f.print(
    f.jsDoc(
      `Options of {@link ${n.startConsumer}}: the runtime's consumer-group options (\`group\`, \`handlers\`, idempotency store, retries, ...) for stream "${s.name}".`,
    ),
  );
  f.print(f.export("type", n.consumerOptions), " = Parameters<typeof ", rt.startConsumerGroup, "<", n.events, ">>[2];");
  f.print();
  f.print(
    f.jsDoc(
      `Joins consumer group \`options.group\` on stream "${s.name}": partitions spread over the group's live members, each event runs its handler once per idempotency key (at-least-once delivery, idempotent effects), failures retry and then go to the dead-letter stream.\n\nBuild \`options.handlers\` with {@link ${n.handlersFn}} (every event type) or {@link ${n.partialHandlersFn}} (some).`,
    ),
  );
  f.print(
    f.export("function", n.startConsumer),
    "(conn: ",
    rt.ChronicleConnection,
    ", options: ",
    n.consumerOptions,
    "): ReturnType<typeof ",
    rt.startConsumerGroup,
    "<",
    n.events,
    ">> {",
  );
  f.print("  return ", rt.startConsumerGroup, "(conn, ", n.definition, ", options);");
  f.print("}");
  f.print();
  // keep MessageShape referenced only if used; it documents the decoded event type
  f.print(f.jsDoc(`A decoded event of stream "${s.name}", as handlers receive it, by event name.`));
  f.print(
    f.export("type", `${n.events.replace(/Events$/, "")}Event`),
    "<K extends keyof ",
    n.events,
    " = keyof ",
    n.events,
    "> = ",
    rt.MessageShape,
    "<",
    n.events,
    "[K]>;",
  );
  f.print();
}
