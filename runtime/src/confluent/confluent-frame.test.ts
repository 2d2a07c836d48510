import { describe, expect, it } from "vitest";
import { ChronicleError } from "../errors.js";
import { testRegistry } from "../streams/test-fixtures.js";
import { decodeConfluentFrame, encodeConfluentFrame, encodeMessageIndexes, isConfluentFrame, messageIndexesOf } from "./confluent-frame.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("Confluent's wire format", () => {
  it("writes message-index arrays as zig-zag varints, [0] as a single 0 byte", () => {
    expect(hex(encodeMessageIndexes([0]))).toBe("00");
    expect(hex(encodeMessageIndexes([1]))).toBe("0202");
    expect(hex(encodeMessageIndexes([2, 1]))).toBe("040402");
    expect(hex(encodeMessageIndexes([0, 0]))).toBe("040000");
    expect(hex(encodeMessageIndexes([64]))).toBe("028001");
    expect(() => encodeMessageIndexes([])).toThrow(ChronicleError);
    expect(() => encodeMessageIndexes([-1])).toThrow(/non-negative/);
  });

  it("frames a payload: magic byte 0, the id big-endian, the indexes, the message; and reads it back", () => {
    const frame = encodeConfluentFrame(0x01020304, [1], new Uint8Array([0x0a, 0x01, 0x61]));
    expect(hex(frame)).toBe("00010203040202" + "0a0161");
    expect(decodeConfluentFrame(frame)).toEqual({ schemaId: 0x01020304, messageIndexes: [1], payload: new Uint8Array([0x0a, 0x01, 0x61]) });
    expect(decodeConfluentFrame(encodeConfluentFrame(7, [0], new Uint8Array([8, 1])))).toMatchObject({ schemaId: 7, messageIndexes: [0] });
    expect(() => encodeConfluentFrame(2 ** 32, [0], new Uint8Array())).toThrow(/4-byte/);
  });

  it("reads the older unsigned form: named, or guessed when zig-zag reads a negative count", () => {
    // [1] written unsigned: count 1, index 1
    const older = new Uint8Array([0, 0, 0, 0, 9, 0x01, 0x01, 0x08, 0x01]);
    expect(decodeConfluentFrame(older, "unsigned")).toMatchObject({ schemaId: 9, messageIndexes: [1], payload: new Uint8Array([0x08, 0x01]) });
    expect(decodeConfluentFrame(older, "auto")).toMatchObject({ messageIndexes: [1] });
    expect(() => decodeConfluentFrame(older, "zigzag")).toThrow(/zigzag/);
    // [0] is one 0 byte in both forms
    expect(decodeConfluentFrame(new Uint8Array([0, 0, 0, 0, 9, 0, 8, 1]), "unsigned").messageIndexes).toEqual([0]);
  });

  it("refuses what is not a frame, with decode_failed and the reason", () => {
    expect(() => decodeConfluentFrame(new Uint8Array([0, 0, 0]))).toThrow(/3 bytes, at least 6/);
    expect(() => decodeConfluentFrame(new Uint8Array([1, 0, 0, 0, 1, 0]))).toThrow(/magic byte 0/);
    // a count of 5 with one byte left
    expect(() => decodeConfluentFrame(new Uint8Array([0, 0, 0, 0, 1, 0x0a, 0x02]), "zigzag")).toThrow(/does not read/);
    try {
      decodeConfluentFrame(new Uint8Array([1, 0, 0, 0, 1, 0]));
    } catch (err) {
      expect((err as ChronicleError).code).toBe("decode_failed");
    }
    // a plain protobuf message never starts with 0
    expect(isConfluentFrame(new Uint8Array([0x0a, 0x01, 0x61, 0, 0, 0]))).toBe(false);
    expect(isConfluentFrame(encodeConfluentFrame(1, [0], new Uint8Array()))).toBe(true);
  });

  it("computes a message's index path in its file", () => {
    const { placed, shipped } = testRegistry();
    expect(messageIndexesOf(placed)).toEqual([0]);
    expect(messageIndexesOf(shipped)).toEqual([1]);
  });
});
