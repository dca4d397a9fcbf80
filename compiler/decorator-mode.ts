/**
 * BC1021: the user's tsconfig turns on `experimentalDecorators`. bentoc's decorators are standard (TC39)
 * decorators; with the legacy mode on, TypeScript checks every `@service`/`@api` against the legacy
 * signature and fails with TS1238/TS1241 ("Unable to resolve signature of … decorator"), which says
 * nothing about the cause. This finds the `experimentalDecorators` key in the tsconfig (or in the config
 * it extends) and reports it there, with what to change; the TS12xx decorator-signature errors it causes
 * are dropped, since they are that one mistake.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import type { CompilerOptions, ts as tsTypes } from "ts-morph";
import { createDiagnostic, type Diagnostic } from "./diagnostics/diagnostic.ts";
import { ts } from "./ts-morph.ts";

/** TypeScript's "Unable to resolve signature of … decorator when called as an expression" family. */
export const LEGACY_DECORATOR_ERRORS: ReadonlySet<string> = new Set(["TS1238", "TS1239", "TS1240", "TS1241", "TS1270", "TS1271"]);

/** Where the `"experimentalDecorators": true` property is (1-based line and column). */
interface Found {
  file: string;
  line: number;
  column: number;
  length: number;
}

function objectProperty(obj: ts.Node | undefined, key: string): tsTypes.PropertyAssignment | undefined {
  if (!obj || !ts.isObjectLiteralExpression(obj)) return undefined;
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && (ts.isStringLiteral(p.name) || ts.isIdentifier(p.name)) && p.name.text === key) return p;
  }
  return undefined;
}

/** The config files `extends` names, resolved as TypeScript does for relative paths and packages. */
function extendedFiles(configFile: string, root: ts.Node | undefined): string[] {
  const ext = objectProperty(root, "extends")?.initializer;
  const specs =
    ext && ts.isStringLiteral(ext) ? [ext.text] : ext && ts.isArrayLiteralExpression(ext) ? ext.elements.filter(ts.isStringLiteral).map((e) => e.text) : [];
  const out: string[] = [];
  for (const spec of specs) {
    if (spec.startsWith(".") || spec.startsWith("/")) {
      const path = resolve(dirname(configFile), spec);
      const file = existsSync(path) ? path : `${path}.json`;
      if (existsSync(file)) out.push(file);
      continue;
    }
    try {
      out.push(createRequire(configFile).resolve(spec));
    } catch {
      try {
        out.push(createRequire(configFile).resolve(`${spec}/tsconfig.json`));
      } catch {
        // an unresolvable base is TypeScript's own error to report
      }
    }
  }
  return out;
}

/** Where `experimentalDecorators: true` is set: the nearest config of the extends chain that sets it. */
function findSetting(configFile: string, seen = new Set<string>()): Found | undefined {
  if (seen.has(configFile) || !existsSync(configFile)) return undefined;
  seen.add(configFile);
  const source = ts.parseJsonText(configFile, readFileSync(configFile, "utf8"));
  const root = source.statements[0]?.expression;
  const prop = objectProperty(objectProperty(root, "compilerOptions")?.initializer, "experimentalDecorators");
  if (prop) {
    if (prop.initializer.kind !== ts.SyntaxKind.TrueKeyword) return undefined;
    const start = prop.getStart(source);
    const { line, character } = source.getLineAndCharacterOfPosition(start);
    return { file: configFile, line: line + 1, column: character + 1, length: prop.getEnd() - start };
  }
  for (const base of extendedFiles(configFile, root)) {
    const found = findSetting(base, seen);
    if (found) return found;
  }
  return undefined;
}

/** BC1021 when the program's options have `experimentalDecorators` on; empty otherwise. */
export function decoratorModeDiagnostics(options: CompilerOptions): Diagnostic[] {
  if (options.experimentalDecorators !== true) return [];
  const configFile = typeof options["configFilePath"] === "string" ? options["configFilePath"] : undefined;
  const found = configFile ? findSetting(configFile) : undefined;
  const diag = createDiagnostic("BC1021", {});
  if (found) return [{ ...diag, file: found.file, line: found.line, column: found.column, length: found.length }];
  return [configFile ? { ...diag, file: configFile, line: 1, column: 1, length: 1 } : diag];
}
