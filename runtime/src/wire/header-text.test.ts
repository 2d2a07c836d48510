import { describe, expect, it } from "vitest";
import { HeaderText, parseHeaderText } from "./header-text.js";

describe("reading a header block", () => {
  const text =
    "NATS/1.0 100 Idle Heartbeat\r\nce-id: a:b: c \r\nX-Dup: 1\r\nX-Dup: 2\r\nno colon here\r\n: empty name\r\nEmpty:\r\nTight:v\r\nxce-id: no\r\n\r\n";
  it("reads the first value of each name, names as sent, values trimmed; a status line and malformed lines are skipped", () => {
    expect(parseHeaderText(text)).toEqual({ "ce-id": "a:b: c", "X-Dup": "1", Empty: "", Tight: "v", "xce-id": "no" });
    expect(parseHeaderText("NATS/1.0\r\n\r\n")).toEqual({});
  });
  it("finds one header without parsing the others, with the same answers", () => {
    const h = new HeaderText(text);
    expect([h.get("ce-id"), h.get("X-Dup"), h.get("Empty"), h.get("Tight"), h.get("xce-id"), h.get("missing"), h.get("NATS/1.0 100 Idle Heartbeat")]).toEqual([
      "a:b: c",
      "1",
      "",
      "v",
      "no",
      undefined,
      undefined,
    ]);
    expect(h.all()).toEqual(parseHeaderText(text));
  });
});
