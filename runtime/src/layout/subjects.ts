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
    // (read for every delivery: found with indexOf, without an array of parts)
    const a = subject.indexOf(".");
    const b = a < 0 ? -1 : subject.indexOf(".", a + 1);
    const c = b < 0 ? -1 : subject.indexOf(".", b + 1);
    if (c < 0 || b === a + 1 || subject.indexOf(".", c + 1) >= 0) return undefined;
    let partition = 0;
    for (let i = a + 1; i < b; i++) {
      const digit = subject.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return undefined;
      partition = partition * 10 + digit;
    }
    return { stream: subject.slice(0, a), partition, eventName: subject.slice(b + 1, c), keyToken: subject.slice(c + 1) };
  },
} as const;
