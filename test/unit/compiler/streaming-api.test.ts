/**
 * Streaming APIs in the compiler: an @api returning AsyncIterable<T> / AsyncGenerator<T> (also in a
 * Promise) is recorded with `streaming: true` and T's schema as its output; what cannot be streamed as
 * JSON items is BC1022.
 */
import { describe, expect, it } from "vitest";
import { analyzeSource } from "./memory-project.ts";

const HEAD = `import { api, io, service } from "bentoc";\ninterface Token { index: number; text: string }\n`;

function analyze(body: string) {
  return analyzeSource(`${HEAD}@service()\nexport class S {\n${body}\n}\n`, { typecheck: true });
}

describe("streaming APIs", () => {
  it.each([
    ["async *gen(input: { n: number }): AsyncGenerator<Token> { yield { index: 0, text: String(input.n) }; }"],
    ["async *gen(input: { n: number }): AsyncIterableIterator<Token> { yield { index: 0, text: String(input.n) }; }"],
    ["gen(input: { n: number }): AsyncIterable<Token> { return (async function* () { yield { index: input.n, text: '' }; })(); }"],
    ["async gen(input: { n: number }): Promise<AsyncIterable<Token>> { return (async function* () { yield { index: input.n, text: '' }; })(); }"],
  ])("%s is a streaming API whose output schema is the item's", (method) => {
    const r = analyze(`  @api()\n  ${method}`);
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const apiManifest = r.manifest?.service.apis[0];
    expect(apiManifest?.streaming).toBe(true);
    expect(apiManifest?.output).toEqual({ descriptor: { kind: "json" }, schema: { $ref: "#/$defs/Token" } });
    expect(r.manifest?.$defs["Token"]).toMatchObject({ type: "object", required: ["index", "text"] });
  });

  it("a plain API is not streaming", () => {
    const r = analyze(`  @api()\n  async one(input: { n: number }): Promise<Token> { return { index: input.n, text: "" }; }`);
    expect(r.manifest?.service.apis[0]?.streaming).toBe(false);
  });

  it.each([
    ["*gen(): Generator<Token> { yield { index: 0, text: '' }; }", "synchronous"],
    ["async *gen(): AsyncGenerator<void> { yield; }", "items of type 'void'"],
    ["gen(): ReadableStream<Token> { return new ReadableStream(); }", "ReadableStream"],
  ])("%s is BC1022", (method, words) => {
    const r = analyze(`  @api()\n  ${method}`);
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => d.code)).toEqual(["BC1022"]);
    expect(errors[0]?.message).toContain(words);
    expect(r.manifest).toBeNull();
  });

  it("a non-JSON output descriptor on a streaming API is BC1022 at the option", () => {
    const r = analyze(`  @api({ output: io.text() })\n  async *gen(): AsyncGenerator<string> { yield "a"; }`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["BC1022"]);
    expect(r.diagnostics[0]?.message).toContain("io.text()");
  });

  it("an item type that cannot be JSON is BC1006 at the item's path", () => {
    const r = analyze(`  @api()\n  async *gen(): AsyncGenerator<{ f: () => void }> { yield { f() {} }; }`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["BC1006"]);
    expect(r.diagnostics[0]?.message).toContain("gen()[item].f");
  });
});
