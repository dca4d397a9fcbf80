/**
 * docs/reference.md is written by hand and checked against the SDK here: every option of the decorators,
 * every field of the value types, Context and Model, every `io.*` descriptor, HttpError's parameters, the
 * lifecycle methods the runtime calls and every value export of `bentoc` must be documented in its
 * section — and the page may not document one that does not exist.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Node, Project } from "ts-morph";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../helpers/serve-sample.ts";

const doc = readFileSync(join(repoRoot, "docs/reference.md"), "utf8");
const project = new Project({ skipAddingFilesFromTsConfig: true, compilerOptions: { allowImportingTsExtensions: true, noEmit: true } });
const sdk = (file: string) => project.addSourceFileAtPath(join(repoRoot, "sdk", file));
const decorators = sdk("decorators.ts");
const io = sdk("io.ts");
const types = sdk("types.ts");
const errors = sdk("errors.ts");
const index = sdk("index.ts");

/** The body of the section whose heading is exactly `heading` (up to the next heading of any level). */
function section(heading: string): string {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, "") === heading);
  if (start < 0) throw new Error(`docs/reference.md has no section "${heading}"`);
  const end = lines.findIndex((l, i) => i > start && /^#{2,3} /.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** The backticked names in the first column of a section's tables. */
function documented(heading: string): string[] {
  return [...section(heading).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!).sort();
}

/** Property paths of an interface; object-literal types are followed (`traffic.timeoutMs`). */
function declared(file: typeof decorators, name: string): string[] {
  const decl = file.getInterfaceOrThrow(name);
  const out: string[] = [];
  const walk = (members: Node[], prefix: string) => {
    for (const m of members) {
      if (!Node.isPropertySignature(m) && !Node.isMethodSignature(m)) continue;
      const typeNode = Node.isPropertySignature(m) ? m.getTypeNode() : undefined;
      if (typeNode && Node.isTypeLiteral(typeNode)) walk(typeNode.getMembers(), `${prefix}${m.getName()}.`);
      else out.push(`${prefix}${m.getName()}`);
    }
  };
  walk(decl.getMembers(), "");
  return out.sort();
}

const SECTIONS = [
  ["@service(options)", decorators, "ServiceOptions"],
  ["@api(options)", decorators, "ApiOptions"],
  ["@runner(options)", decorators, "RunnerOptions"],
  ["@batchable(options)", decorators, "BatchableOptions"],
  ["NdArrayOptions", io, "NdArrayOptions"],
  ["ImageOptions", io, "ImageOptions"],
  ["NdArray` and `Tensor", types, "NdArray"],
  ["Image", types, "Image"],
  ["FileData", types, "FileData"],
  ["Resources", types, "Resources"],
  ["Context", types, "Context"],
  ["RunnerCallOptions", types, "RunnerCallOptions"],
  ["Model", types, "Model"],
] as const;

describe("docs/reference.md documents the SDK", () => {
  it("has a section for every interface bentoc exports (the manifest's types aside)", () => {
    const interfaces = [...index.getExportedDeclarations().entries()]
      .filter(([, decls]) => decls.some((d) => Node.isInterfaceDeclaration(d) && !d.getSourceFile().getFilePath().endsWith("/manifest.ts")))
      .map(([n]) => n)
      .sort();
    expect(interfaces).toEqual(SECTIONS.map(([, , name]) => name).sort());
  });

  it.each(SECTIONS)("`%s` lists exactly the fields of its type", (heading, file, name) => {
    expect(documented(`\`${heading}\``), `${name} in docs/reference.md`).toEqual(declared(file, name));
  });

  it("lists every io.* descriptor", () => {
    const ioObject = io.getVariableDeclarationOrThrow("io").getInitializerOrThrow();
    const initializer = Node.isAsExpression(ioObject) ? ioObject.getExpression() : ioObject;
    if (!Node.isObjectLiteralExpression(initializer)) throw new Error("io is not an object literal");
    const keys = initializer
      .getProperties()
      .map((p) => (Node.isPropertyAssignment(p) ? p.getName() : "?"))
      .sort();
    const rows = documented("IO descriptors").map((d) => /^io\.(\w+)\(/.exec(d)?.[1] ?? d);
    expect(rows.sort()).toEqual(keys);
  });

  it("lists HttpError's constructor parameters", () => {
    const ctor = errors.getClassOrThrow("HttpError").getConstructors()[0]!;
    expect(documented("`HttpError`")).toEqual(
      ctor
        .getParameters()
        .map((p) => p.getName())
        .sort(),
    );
  });

  it("lists the lifecycle methods the runtime calls", () => {
    const runtime = ["runtime/runners/runner-instance.ts", "runtime/server/service-state.ts"].map((f) => readFileSync(join(repoRoot, f), "utf8")).join("\n");
    const called = new Set([...runtime.matchAll(/instance\["(\w+)"\]|hook\("(\w+)"\)|"(setup|warmup|teardown)"/g)].map((m) => `${m[1] ?? m[2] ?? m[3]}()`));
    called.delete("model()");
    expect([...new Set(documented("Lifecycle"))].sort()).toEqual([...called].sort());
  });

  it("mentions every value export of bentoc", () => {
    const names = [...index.getExportedDeclarations().entries()]
      .filter(([, decls]) => decls.some((d) => !Node.isInterfaceDeclaration(d) && !Node.isTypeAliasDeclaration(d)))
      .map(([n]) => n);
    expect(names.length).toBeGreaterThan(8);
    const missing = names.filter((n) => !new RegExp(`\`@?${n}[(.\`]`).test(doc));
    expect(missing).toEqual([]);
  });
});
