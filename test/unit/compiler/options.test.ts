import { Node } from "ts-morph";
import { describe, expect, it } from "vitest";
import { readOptions } from "../../../compiler/analyze/options.ts";
import { addSource, sdkSymbols } from "./memory-project.ts";

/** Read the argument of the first call to `opts(...)` in the snippet. */
function read(snippet: string) {
  const sf = addSource(
    `import { io } from "bentoc";\nimport { io as other } from "./look-alike-io.ts";\nconst v = 3; function f() { return 1; }\ndeclare function opts(o: unknown): void;\n${snippet}`,
  );
  const call = sf.getDescendants().find((n) => Node.isCallExpression(n) && n.getExpression().getText() === "opts");
  if (!call || !Node.isCallExpression(call)) throw new Error("no opts() call");
  return readOptions(call.getArguments()[0], sdkSymbols());
}

addSource(`export const io = { text: () => ({ kind: "text" }) };`, "look-alike-io.ts");

describe("options: static decorator options", () => {
  it("reads literals, arrays, nested objects, negative numbers and as const", () => {
    const r = read(
      `opts({ route: "/x", n: -5, p: +2, ok: true, no: false, nil: null, list: ["a", 'b', \`c\`], nested: { deep: { x: 1.5 } }, tuple: [1, 2] as const, skip: undefined, "quoted-key": 1 });`,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toEqual({
      route: "/x",
      n: -5,
      p: 2,
      ok: true,
      no: false,
      nil: null,
      list: ["a", "b", "c"],
      nested: { deep: { x: 1.5 } },
      tuple: [1, 2],
      "quoted-key": 1,
    });
    expect(r.nodes.get("nested.deep.x")?.getText()).toBe("1.5");
  });

  it("resolves io.* calls by symbol into descriptors", () => {
    const r = read(
      `opts({ a: io.text(), b: io.ndarray({ dtype: "float32", shape: [null, 8] }), c: io.tensor(), d: io.image({ formats: ["png"] }), e: io.multipart({ img: io.image(), meta: io.json() }), f: io.file({ contentType: "application/pdf" }) });`,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.value).toEqual({
      a: { kind: "text" },
      b: { kind: "ndarray", dtype: "float32", shape: [null, 8] },
      c: { kind: "ndarray" },
      d: { kind: "image", formats: ["png"] },
      e: { kind: "multipart", parts: { img: { kind: "image" }, meta: { kind: "json" } } },
      f: { kind: "file", contentType: "application/pdf" },
    });
  });

  it("reports BC1005 at each non-static value: variables, calls, spreads, templates, look-alike io", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source text with a template literal in it
    const r = read("opts({ a: v, b: f(), ...{ c: 1 }, d: `x${v}`, e: other.text(), v, ok: 1 });");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["BC1005", "BC1005", "BC1005", "BC1005", "BC1005", "BC1005"]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template literal, quoted in a diagnostic
    expect(r.diagnostics.map((d) => d.message.match(/'(.*)' is not/)?.[1])).toEqual(["v", "f()", "...{ c: 1 }", "`x${v}`", "other.text()", "v"]);
    expect(r.value).toEqual({ ok: 1 });
    expect(r.diagnostics[0]?.column).toBe(11);
  });

  it("an options argument that is not an object literal is BC1005", () => {
    const r = read("const o = { route: '/x' }; opts(o);");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["BC1005"]);
    expect(r.value).toEqual({});
  });
});
