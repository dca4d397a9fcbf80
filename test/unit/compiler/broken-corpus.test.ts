/**
 * The corpus of broken services (test/fixtures/broken/*.ts): each gives the code its `// expect:` comment
 * names, on that line (errors and warnings, by the code's severity), and no other diagnostic. Run on the
 * shared in-memory Project, with the type checker on. A fixture whose first line says it is compiled "with
 * the corpus's model store" gets a real model store (a temp `BENTOC_HOME` holding two small ONNX models)
 * listed as the model catalogue, as `bentoc compile` does, or as `bentoc build` does (a missing model an
 * error) when it expects BC1026; the others none, as the API without one. Each fixture's printed diagnostics (message,
 * code frame, hint) are recorded in test/fixtures/broken/printed/<name>.txt; `RECORD=1` rewrites them.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeEntry, analyzeProject } from "../../../compiler/analyze-entry.ts";
import { CODES, type CodeInfo } from "../../../compiler/diagnostics/codes.ts";
import { formatDiagnostics } from "../../../compiler/diagnostics/format.ts";
import type { ModelCatalogue } from "../../../compiler/model-catalogue.ts";
import { MEMORY_ROOT } from "../../../compiler/program.ts";
import { ModelStore } from "../../../runtime/models/model-store.ts";
import { GraphBuilder } from "../../../runtime/models/onnx-graph-builder.ts";
import { addSource, project } from "./memory-project.ts";

const PRINTED = resolve(import.meta.dirname, "../../fixtures/broken/printed");
const RECORD = process.env["RECORD"] === "1";

let home = "";
let store: ModelStore;

/** The corpus's store: broken-mlp (x: float32[batch, 4] → y: float32[batch, 2]) and broken-text (text: string[batch] → label: string[batch]). */
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "bentoc-corpus-home-"));
  store = new ModelStore(home);
  const mlp = new GraphBuilder("broken-mlp");
  const x = mlp.input("x", "float32", ["batch", 4]);
  const w = mlp.floats("w", [4, 2], new Float32Array([1, 0, 0, 1, 1, 0, 0, 1]));
  mlp.op("MatMul", [x, w], {}, "y");
  mlp.output("y", "float32", ["batch", 2]);
  const text = new GraphBuilder("broken-text");
  const t = text.input("text", "string", ["batch"]);
  text.op("Identity", [t], {}, "label");
  text.output("label", "string", ["batch"]);
  for (const [name, graph] of [
    ["broken-mlp", mlp],
    ["broken-text", text],
  ] as const) {
    await store.save([{ path: "model.onnx", data: graph.toBytes(17) }], { name });
  }
});

afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

async function catalogue(missing: ModelCatalogue["missing"]): Promise<ModelCatalogue> {
  return { home: store.home, models: await store.list(), missing };
}

function severity(code: string): CodeInfo["severity"] {
  return code in CODES ? (CODES[code as keyof typeof CODES] as CodeInfo).severity : "error";
}

const DIR = resolve(import.meta.dirname, "../../fixtures/broken");
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".ts"))
  .sort();

interface Expectation {
  line: number | undefined;
  code: string;
}

function expectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  text.split("\n").forEach((line, i) => {
    const m = /\/\/ expect(-file)?: ((?:(?:BC|TS)\d+\s*)+)$/.exec(line);
    if (m) for (const code of (m[2] ?? "").trim().split(/\s+/)) out.push({ line: m[1] ? undefined : i + 1, code });
  });
  return out;
}

describe("broken services corpus", () => {
  it("has at least 12 services, each with an expectation", () => {
    expect(FILES.length).toBeGreaterThanOrEqual(12);
    for (const f of FILES) expect(expectations(readFileSync(join(DIR, f), "utf8")).length, f).toBeGreaterThan(0);
  });

  it.each(FILES)("%s gives its diagnostic at its line", async (name) => {
    const text = readFileSync(join(DIR, name), "utf8");
    const path = `${MEMORY_ROOT}/test/fixtures/broken/${name}`;
    addSource(text, path);
    const wanted = expectations(text);
    // the model fixtures say so on their first line; the others compile without a store, as the API does
    const withStore = /with the corpus's model store/.test(text.split("\n")[0] ?? "");
    const models = withStore ? await catalogue(wanted.some((w) => w.code === "BC1026") ? "error" : "warning") : undefined;
    const result = analyzeProject({ project, entryFile: path, projectRoot: MEMORY_ROOT, typecheck: true, models });
    const got = result.diagnostics.map((d) => ({ line: d.file === path ? d.line : undefined, code: d.code, severity: d.severity }));
    for (const w of wanted) expect(got, `${w.code} at line ${w.line}`).toContainEqual({ ...w, severity: severity(w.code) });
    const unexpected = got.filter((g) => !wanted.some((w) => w.code === g.code && w.line === g.line));
    expect(unexpected, JSON.stringify(result.diagnostics, null, 2)).toEqual([]);
    if (wanted.some((w) => severity(w.code) === "error")) expect(result.manifest).toBeNull();
    else expect(result.manifest).not.toBeNull();
    for (const d of result.diagnostics) if (d.code.startsWith("BC")) expect(Object.keys(CODES)).toContain(d.code);

    // the printed form: message, code frame and hint; the store's temp path and the saved versions (time-based) vary by run
    let printed = `${formatDiagnostics(result.diagnostics, { cwd: MEMORY_ROOT, color: false, readFile: (f) => project.getSourceFile(f)?.getFullText() })}\n`;
    printed = printed.split(store.home).join("$BENTOC_HOME");
    for (const m of await store.list()) printed = printed.split(m.tag).join(`${m.name}:<version>`);
    const file = join(PRINTED, name.replace(/\.ts$/, ".txt"));
    if (RECORD || !existsSync(file)) {
      mkdirSync(PRINTED, { recursive: true });
      writeFileSync(file, printed);
    }
    expect(printed).toBe(readFileSync(file, "utf8"));
  });

  it("BC1023 says which replica bound is wrong and why", async () => {
    const messages = async (name: string) => {
      const path = `${MEMORY_ROOT}/test/fixtures/broken/${name}`;
      addSource(readFileSync(join(DIR, name), "utf8"), path);
      return analyzeProject({ project, entryFile: path, projectRoot: MEMORY_ROOT, typecheck: true }).diagnostics.map((d) => [d.code, d.line, d.message]);
    };
    expect(await messages("scaling-min-above-max.ts")).toEqual([
      [
        "BC1023",
        3,
        "Invalid scaling option minReplicas = 6, maxReplicas = 2: minReplicas must not exceed maxReplicas (the autoscaler could never satisfy both).",
      ],
    ]);
    expect(await messages("scaling-zero-replicas.ts")).toEqual([
      ["BC1023", 7, "Invalid scaling option minReplicas = 0: must be an integer ≥ 1."],
      ["BC1023", 8, "Invalid scaling option maxReplicas = 2.5: must be an integer ≥ 1."],
    ]);
  });

  it("the real on-disk path reports the fixture's absolute file and line", async () => {
    const file = join(DIR, "duplicate-route.ts");
    const result = await analyzeEntry({ entry: file });
    expect(result.manifest).toBeNull();
    expect(result.diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual([["BC1004", file, 11, 17]]);
  });
});
