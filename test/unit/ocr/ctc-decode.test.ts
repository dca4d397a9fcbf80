import { describe, expect, it } from "vitest";
import { ctcGreedyDecode, parseDictionary } from "../../../samples/ocr/ctc-decode.ts";

describe("parseDictionary", () => {
  it("reads one character per line (LF or CRLF) and appends the space class", () => {
    expect(parseDictionary("a\r\nb\nc\n")).toEqual(["a", "b", "c", " "]);
    expect(parseDictionary("a\nb")).toEqual(["a", "b", " "]);
  });
});

/** One-hot-ish probabilities: at each step `p` on the given class, the rest spread evenly. */
function steps(classes: number, picks: Array<[number, number]>): Float32Array {
  const out = new Float32Array(picks.length * classes);
  picks.forEach(([c, p], t) => {
    for (let k = 0; k < classes; k++) out[t * classes + k] = k === c ? p : (1 - p) / (classes - 1);
  });
  return out;
}

describe("ctcGreedyDecode", () => {
  const dict = parseDictionary("a\nb\nc"); // classes: 0 blank, 1 a, 2 b, 3 c, 4 space
  it("collapses repeats, drops blanks, and needs a blank between a doubled letter", () => {
    const probs = steps(5, [
      [1, 0.9], // a
      [1, 0.8], // a (repeat, collapsed)
      [0, 0.9], // blank
      [1, 0.7], // a again
      [4, 0.6], // space
      [3, 0.5], // c
      [3, 0.9], // c (repeat)
      [0, 0.99],
    ]);
    const r = ctcGreedyDecode(probs, 0, 8, 5, dict);
    expect(r.text).toBe("aa c");
    // Kept: first a (0.9), second a (0.7), space (0.6), first c (0.5).
    expect(r.confidence).toBeCloseTo((0.9 + 0.7 + 0.6 + 0.5) / 4, 6);
  });

  it("decodes a row of a batch from its offset", () => {
    const row0 = steps(5, [
      [2, 0.9],
      [0, 0.9],
    ]);
    const row1 = steps(5, [
      [3, 0.9],
      [1, 0.9],
    ]);
    const batch = new Float32Array([...row0, ...row1]);
    expect(ctcGreedyDecode(batch, 0, 2, 5, dict).text).toBe("b");
    expect(ctcGreedyDecode(batch, 10, 2, 5, dict).text).toBe("ca");
  });

  it("gives empty text with confidence 0 for all blanks", () => {
    expect(
      ctcGreedyDecode(
        steps(5, [
          [0, 0.9],
          [0, 0.9],
        ]),
        0,
        2,
        5,
        dict,
      ),
    ).toEqual({ text: "", confidence: 0 });
  });

  it("refuses a dictionary that does not fit the model's classes", () => {
    expect(() => ctcGreedyDecode(new Float32Array(6), 0, 1, 6, dict)).toThrow(/6 classes/);
  });
});
