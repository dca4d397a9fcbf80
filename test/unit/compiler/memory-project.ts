/**
 * The shared in-memory ts-morph Project of the compiler's unit tests: this repo's sdk as the package
 * `bentoc` at /repo, sources added under /repo/src/ (they import "bentoc" by self-reference).
 */
import { readFileSync } from "node:fs";
import type { SourceFile } from "ts-morph";
import { schemaOf } from "../../../compiler/analyze/schema/generate.ts";
import { SchemaContext } from "../../../compiler/analyze/schema/schema-context.ts";
import { type AnalysisResult, analyzeProject } from "../../../compiler/analyze-entry.ts";
import { SdkSymbols } from "../../../compiler/discover/sdk-symbols.ts";
import { createInMemoryProject, MEMORY_ROOT } from "../../../compiler/program.ts";
import type { JsonSchema } from "../../../sdk/manifest.ts";

export const project = createInMemoryProject();

let counter = 0;

/** Add (or replace) a source file; returns it. Names are made unique unless given with a path. */
export function addSource(text: string, name = `file-${++counter}.ts`): SourceFile {
  const path = name.startsWith("/") ? name : `${MEMORY_ROOT}/src/${name}`;
  return project.createSourceFile(path, text, { overwrite: true });
}

export function addFixture(diskPath: string, memoryPath: string): SourceFile {
  return addSource(readFileSync(diskPath, "utf8"), memoryPath);
}

export function analyzeSource(text: string, options: { typecheck?: boolean; name?: string } = {}): AnalysisResult {
  const sf = addSource(text, options.name);
  return analyzeProject({ project, entryFile: sf.getFilePath(), projectRoot: MEMORY_ROOT, typecheck: options.typecheck ?? false });
}

export function sdkSymbols(): SdkSymbols {
  return SdkSymbols.forProject(project);
}

/**
 * Schemas of the exported `let` declarations of a snippet (`export let a: Foo;`), plus the `$defs` and
 * diagnostics of the run.
 */
export function schemasOf(text: string): { schemas: Record<string, JsonSchema>; defs: Record<string, JsonSchema>; ctx: SchemaContext } {
  const sf = addSource(text);
  const ctx = new SchemaContext(project.getTypeChecker().compilerObject, project.getProgram().compilerObject);
  const schemas: Record<string, JsonSchema> = {};
  for (const v of sf.getVariableDeclarations()) {
    schemas[v.getName()] = schemaOf(v.getType().compilerType, ctx, (v.getTypeNode() ?? v).compilerNode, v.getName());
  }
  return { schemas, defs: ctx.sortedDefs(), ctx };
}
