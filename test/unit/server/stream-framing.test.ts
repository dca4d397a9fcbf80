/** The framing of streamed responses: which one `Accept` chooses, and the bytes of an item and an error. */
import { describe, expect, it } from "vitest";
import { chooseFraming, frameError, frameItem } from "../../../runtime/server/stream-response.ts";

describe("stream framing", () => {
  it.each([
    [undefined, "sse"],
    ["*/*", "sse"],
    ["text/event-stream", "sse"],
    ["application/json", "sse"],
    ["application/x-ndjson", "ndjson"],
    ["Application/X-NDJSON; q=1", "ndjson"],
    ["application/x-ndjson, text/event-stream", "ndjson"],
    ["text/event-stream, application/x-ndjson", "sse"],
  ])("Accept %s → %s", (accept, framing) => {
    expect(chooseFraming(accept)).toBe(framing);
  });

  it("frames items and errors", () => {
    expect(frameItem("sse", { a: "x\ny" })).toBe('data: {"a":"x\\ny"}\n\n');
    expect(frameItem("ndjson", [1, 2])).toBe("[1,2]\n");
    expect(frameItem("ndjson", undefined)).toBe("null\n");
    const body = { error: "e", code: "internal", requestId: "r" };
    expect(frameError("sse", body)).toBe('event: error\ndata: {"error":"e","code":"internal","requestId":"r"}\n\n');
    expect(frameError("ndjson", body)).toBe('{"$error":{"error":"e","code":"internal","requestId":"r"}}\n');
  });
});
