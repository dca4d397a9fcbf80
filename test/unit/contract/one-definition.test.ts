/**
 * A stale constant cannot survive: every value of the compiler↔runtime contract (contract/) is written
 * once. This reads every string, template and number literal of the shipped sources (compiler, runtime,
 * CLI, bento tooling, load generator, SDK) with the TypeScript parser — comments are not literals — and
 * fails on a copy of a route, a metric name, an output file name, or a default port or drain period.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { METRIC_NAMES } from "../../../contract/metric-names.ts";
import { BUNDLE_FILE, MANIFEST_FILE, OPENAPI_FILE } from "../../../contract/output-files.ts";
import { ADMIN_PREFIX, DOCS_ASSET_PREFIX, SERVER_ROUTES, V2_ROUTES } from "../../../contract/server-routes.ts";
import { DEFAULT_API_PORT, DEFAULT_DRAIN_MS, DEFAULT_RUNNER_PORT } from "../../../contract/shared-defaults.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const SHIPPED = ["compiler", "runtime", "cli", "bento", "loadtest", "sdk"];
/**
 * Generated files (a unit test compares each with a regeneration): runtime-text.ts from client-runtime.ts
 * holds no contract value; the two ajv validators embed the schemas they were generated from, so their
 * copies of contract values come from the one definition.
 */
const GENERATED = new Set(["compiler/emit/client/runtime-text.ts", "contract/manifest-validator.ts", "runtime/config/config-validator.ts"]);

interface Literal {
  file: string;
  line: number;
  kind: "text" | "number";
  text: string;
  /** For a number: the name of the property, variable or parameter it is assigned to, if any. */
  name: string;
}

function sources(): string[] {
  return SHIPPED.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && /\.(ts|mts|mjs)$/.test(d.name))
      .map((d) => relative(root, join(d.parentPath, d.name)).split("\\").join("/")),
  ).filter((f) => !GENERATED.has(f));
}

function nameOf(node: ts.Node): string {
  const p = node.parent;
  if ((ts.isPropertyAssignment(p) || ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isPropertyDeclaration(p)) && p.name) return p.name.getText();
  if (ts.isBinaryExpression(p)) return p.left.getText();
  return "";
}

function literalsOf(file: string): Literal[] {
  const sf = ts.createSourceFile(file, readFileSync(join(root, file), "utf8"), ts.ScriptTarget.Latest, true);
  const out: Literal[] = [];
  const visit = (node: ts.Node): void => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateLiteralToken(node) || ts.isRegularExpressionLiteral(node)) {
      out.push({ file, line, kind: "text", text: node.text, name: "" });
    } else if (ts.isNumericLiteral(node)) {
      out.push({ file, line, kind: "number", text: node.text, name: nameOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const ALL = sources().flatMap(literalsOf);
const where = (l: Literal) => `${l.file}:${l.line}: ${JSON.stringify(l.text)}`;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Whether a literal (or one part of a template) uses one of `values` as code does: the whole literal, or
 * its start (`"/readyz')…"`, `"/docs.json)"`), or its end after a URL or word break (`${url}` + `"/livez"`).
 * A value inside a sentence (`"Prometheus scrapes /metrics of the API pods."`) is prose, not a copy.
 */
function codeUse(text: string, values: readonly string[]): boolean {
  const alternatives = values.map(escapeRegExp).join("|");
  return new RegExp(`^(${alternatives})(?![\\w./-])`).test(text) || new RegExp(`(^|[\\s/:])(${alternatives})$`).test(text);
}

describe("one definition per contract value", () => {
  it("reads the literals of the shipped sources", () => {
    expect(ALL.filter((l) => l.kind === "text").length).toBeGreaterThan(1000);
    // the contract's own values are found where they are defined, so the scan would see a copy
    expect(literalsOf("contract/output-files.ts").map((l) => l.text)).toContain(BUNDLE_FILE);
  });

  it("routes: no path of the servers' own routes is written outside contract/server-routes.ts", () => {
    const paths = [...Object.values(SERVER_ROUTES), ...Object.values(V2_ROUTES), DOCS_ASSET_PREFIX, ADMIN_PREFIX];
    const hits = ALL.filter((l) => l.kind === "text" && codeUse(l.text, paths));
    expect(hits.map(where)).toEqual([]);
  });

  it("metric names: none is written outside contract/metric-names.ts", () => {
    const names = Object.values(METRIC_NAMES);
    expect(ALL.filter((l) => l.kind === "text" && names.some((n) => l.text.includes(n))).map(where)).toEqual([]);
  });

  it("output files: the manifest, OpenAPI and bundle names are written only in contract/output-files.ts", () => {
    const hits = ALL.filter((l) => l.kind === "text" && codeUse(l.text, [MANIFEST_FILE, OPENAPI_FILE, BUNDLE_FILE]));
    expect(hits.map(where)).toEqual([]);
  });

  it("defaults: no port or drain period is given its default value outside contract/shared-defaults.ts", () => {
    const values = new Map([
      [DEFAULT_API_PORT, /port/i],
      [DEFAULT_RUNNER_PORT, /port/i],
      [DEFAULT_DRAIN_MS, /drain|grace/i],
    ]);
    const hits = ALL.filter((l) => {
      if (l.kind !== "number") return false;
      const pattern = values.get(Number(l.text.replace(/_/g, "")));
      return pattern?.test(l.name) === true;
    });
    expect(hits.map((l) => `${l.file}:${l.line}: ${l.name} = ${l.text}`)).toEqual([]);
  });
});
