import { keyToken } from "./key-token.js";

/**
 * Subject layout of a Chronicle stream named S with N partitions:
 *
 * - producers publish to `S.<EventName>.<keyToken>`;
 * - the stream's subject transform stores that as
 *   `S.<partition>.<EventName>.<keyToken>`, with the partition computed by
 *   the server (`{{partition(N,2)}}`), so any client lands in the right one;
 * - the dead-letter stream `S_dlq` stores `S_dlq.<group>.<partition>.<EventName>.<keyToken>`.
 */
export const layout = {
  /** Subject a producer publishes an event to. */
  publishSubject(stream: string, eventName: string, key: string): string {
    return `${stream}.${eventName}.${keyToken(key)}`;
  },
  /** The stream's input subject filter (`S.*.*`). */
  inputFilter(stream: string): string {
    return `${stream}.*.*`;
  },
  /** The stream's subject transform destination. */
  transformDest(stream: string, partitions: number): string {
    return `${stream}.{{partition(${partitions},2)}}.{{wildcard(1)}}.{{wildcard(2)}}`;
  },
  /** Filter for every stored event of one partition. */
  partitionFilter(stream: string, partition: number): string {
    return `${stream}.${partition}.>`;
  },
  /** Filter for every stored event of one key. */
  keyFilter(stream: string, key: string): string {
    return `${stream}.*.*.${keyToken(key)}`;
  },
  /** Filter for every stored event of one type. */
  typeFilter(stream: string, eventName: string): string {
    return `${stream}.*.${eventName}.*`;
  },
  /** Name of the dead-letter stream of a stream. */
  dlqStream(stream: string): string {
    return `${stream}_dlq`;
  },
  /** Subject a dead letter is stored under. */
  dlqSubject(stream: string, group: string, partition: number, eventName: string, token: string): string {
    return `${stream}_dlq.${group}.${partition}.${eventName}.${token}`;
  },
  /** Splits a stored subject into its parts; undefined when it is not of this layout. */
  parseStored(subject: string): { stream: string; partition: number; eventName: string; keyToken: string } | undefined {
    const parts = subject.split(".");
    if (parts.length !== 4 || !/^\d+$/.test(parts[1]!)) return undefined;
    return { stream: parts[0]!, partition: Number(parts[1]), eventName: parts[2]!, keyToken: parts[3]! };
  },
} as const;
