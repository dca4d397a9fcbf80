import { describe, expect, it } from "vitest";
import { JsonWriteError, toJson } from "../../../compiler/emit/json.ts";

describe("toJson", () => {
  it("sorts keys, indents by two spaces and ends with a newline", () => {
    expect(toJson({ b: 1, a: [3, { d: null, c: "x" }], e: {}, f: [] })).toBe(
      '{\n  "a": [\n    3,\n    {\n      "c": "x",\n      "d": null\n    }\n  ],\n  "b": 1,\n  "e": {},\n  "f": []\n}\n',
    );
  });

  it("keeps insertion order where the caller says order is meaningful", () => {
    const value = { z: { y: 1, x: 2 }, a: { d: 1, c: 2 } };
    expect(toJson(value, { sortKeys: false })).toBe(`${JSON.stringify(value, null, 2)}\n`);
    const onlyRoot = toJson(value, { sortKeys: (path) => path.length > 0 });
    expect(onlyRoot).toBe(`${JSON.stringify({ z: { x: 2, y: 1 }, a: { c: 2, d: 1 } }, null, 2)}\n`);
  });

  it("is independent of the key order of its input", () => {
    expect(toJson({ a: 1, b: { c: 2, d: 3 } })).toBe(toJson({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it("drops undefined properties like JSON.stringify, writes -0 as 0 and uses toJSON", () => {
    expect(toJson({ a: undefined, b: -0, c: [undefined], d: new Date(0) })).toBe(
      '{\n  "b": 0,\n  "c": [\n    null\n  ],\n  "d": "1970-01-01T00:00:00.000Z"\n}\n',
    );
  });

  it("refuses values that would not survive a round trip, saying where", () => {
    expect(() => toJson({ a: [1, Number.NaN] })).toThrow(new JsonWriteError("non-finite number NaN", ["a", 1]));
    expect(() => toJson({ n: 1n })).toThrow(/bigint as JSON at \$\.n/);
    expect(() => toJson({ f: () => 1 })).toThrow(/function as JSON at \$\.f/);
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(() => toJson(cyclic)).toThrow(/cycle at \$\.self/);
    const shared = { x: 1 };
    expect(toJson([shared, shared])).toBe('[\n  {\n    "x": 1\n  },\n  {\n    "x": 1\n  }\n]\n');
  });
});
