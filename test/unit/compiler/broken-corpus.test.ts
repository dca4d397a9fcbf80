/**
 * The corpus of broken services (test/fixtures/broken/*.ts): each gives the code its `// expect:` comment
 * names, on that line, and no other error. Run on the shared in-memory Project, with the type checker on.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { analyzeEntry } from "../../../compiler/analyze-entry.ts";
import { analyzeProject } from "../../../compiler/analyze-entry.ts";
import { CODES } from "../../../compiler/diagnostics/codes.ts";
import { MEMORY_ROOT } from "../../../compiler/program.ts";
import { addSource, project } from "./memory-project.ts";

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

  it.each(FILES)("%s gives its diagnostic at its line", (name) => {
    const text = readFileSync(join(DIR, name), "utf8");
    const path = `${MEMORY_ROOT}/test/fixtures/broken/${name}`;
    addSource(text, path);
    const result = analyzeProject({ project, entryFile: path, projectRoot: MEMORY_ROOT, typecheck: true });
    const wanted = expectations(text);
    const got = result.diagnostics.map((d) => ({ line: d.file === path ? d.line : undefined, code: d.code, severity: d.severity }));
    for (const w of wanted) expect(got, `${w.code} at line ${w.line}`).toContainEqual({ ...w, severity: "error" });
    const unexpected = got.filter((g) => g.severity === "error" && !wanted.some((w) => w.code === g.code && w.line === g.line));
    expect(unexpected, JSON.stringify(result.diagnostics, null, 2)).toEqual([]);
    expect(result.manifest).toBeNull();
    for (const d of result.diagnostics) if (d.code.startsWith("BC")) expect(Object.keys(CODES)).toContain(d.code);
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
