import { streamIdentifier } from "../model/build-event-model.js";

/** Identifiers generated for one stream (here for a stream named `orders`). */
export interface StreamNames {
  /** `ordersStream`: the stream definition. */
  readonly definition: string;
  /** `OrdersEvents`: map from event name to schema type. */
  readonly events: string;
  /** `OrdersProducer`: the typed producer interface. */
  readonly producer: string;
  /** `OrdersProducerOptions`: options of the producer factory. */
  readonly producerOptions: string;
  /** `createOrdersProducer`: the producer factory. */
  readonly createProducer: string;
  /** `OrdersHandlers`: handlers for every event type. */
  readonly handlers: string;
  /** `PartialOrdersHandlers`: handlers for some event types. */
  readonly partialHandlers: string;
  /** `ordersHandlers`: checks exhaustive handlers. */
  readonly handlersFn: string;
  /** `partialOrdersHandlers`: checks partial handlers. */
  readonly partialHandlersFn: string;
  /** `OrdersConsumerOptions`: options of the consumer starter. */
  readonly consumerOptions: string;
  /** `startOrdersConsumer`: starts a consumer group member. */
  readonly startConsumer: string;
}

/** The identifiers protoc-gen-chronicle generates for a stream, derived from its name (`order-events` -> `orderEvents...`). */
export function streamNames(streamName: string): StreamNames {
  const camel = streamIdentifier(streamName);
  const pascal = camel.charAt(0).toUpperCase() + camel.slice(1);
  return {
    definition: `${camel}Stream`,
    events: `${pascal}Events`,
    producer: `${pascal}Producer`,
    producerOptions: `${pascal}ProducerOptions`,
    createProducer: `create${pascal}Producer`,
    handlers: `${pascal}Handlers`,
    partialHandlers: `Partial${pascal}Handlers`,
    handlersFn: `${camel}Handlers`,
    partialHandlersFn: `partial${pascal}Handlers`,
    consumerOptions: `${pascal}ConsumerOptions`,
    startConsumer: `start${pascal}Consumer`,
  };
}
