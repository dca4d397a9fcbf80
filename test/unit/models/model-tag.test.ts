import { describe, expect, it } from "vitest";
import { ModelStoreError } from "../../../runtime/models/model-store-error.ts";
import { newVersion, parseTag, versionTime } from "../../../runtime/models/model-tag.ts";

describe("model tags", () => {
  it("parses name, name:latest and name:version", () => {
    expect(parseTag("minilm")).toEqual({ name: "minilm", version: null });
    expect(parseTag("minilm:latest")).toEqual({ name: "minilm", version: null });
    expect(parseTag("support-tickets-minilm:01m8a2ghwfd8m9q3")).toEqual({ name: "support-tickets-minilm", version: "01m8a2ghwfd8m9q3" });
  });

  it("rejects names that could escape the store or are ambiguous", () => {
    for (const bad of ["", "..", "../x", "a/b", "A", "a:b:c", "-a", "a-", "a..b", "x".repeat(64), "a:", "a:.."]) {
      expect(() => parseTag(bad), bad).toThrow(ModelStoreError);
    }
  });

  it("generates versions that sort by time and stay ordered within one millisecond or after a clock step back", () => {
    const t = Date.UTC(2026, 0, 1);
    const a = newVersion(null, t);
    expect(versionTime(a)).toBe(t);
    expect(a).toMatch(/^[0-9a-z]{16}$/);
    const b = newVersion(a, t); // same millisecond
    const c = newVersion(b, t - 5000); // clock went back
    const d = newVersion(c, t + 60_000);
    expect([a, b, c, d]).toEqual([a, b, c, d].slice().sort());
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(versionTime(d)).toBe(t + 60_000);
    expect(newVersion(null, t + 1) > newVersion(null, t)).toBe(true);
    expect(versionTime(newVersion("zzzzzzzzzzzzzzzz", t))).toBe(t);
  });
});
