/**
 * ts-morph, loaded with `require`. ts-morph (and the TypeScript it bundles, 9 MB of CommonJS) is the
 * largest part of the compiler's startup: importing it as an ES module makes Node pre-parse the
 * CommonJS for its export names and, under tsx's loader, resolve every `require` inside it through the
 * ESM hooks — about 150 ms more CPU than a plain `require` of the same module (measured on Node 20).
 *
 * Compiler files take ts-morph's values from here and its types from "ts-morph" (`import type`). The
 * `ts` namespace is both: a value here, plus the TypeScript types the compiler names as `ts.X`.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as Morph from "ts-morph";
import { requireWithCodeCache } from "./code-cache.ts";

const require = createRequire(import.meta.url);
// Compiling typescript.js is ~0.25 s of every cold start. Node 22+ keeps a V8 code cache on disk for every
// module (module.enableCompileCache); on Node 20, compiler/code-cache.ts keeps one for ts-morph's three big
// files only (a global require hook such as v8-compile-cache would compile every later CommonJS module
// without dynamic-import support: OpenTelemetry's exporter then fails in `serve <source>`).
const nodeModule = require("node:module") as { enableCompileCache?: () => unknown };
let morph: typeof Morph;
if (typeof nodeModule.enableCompileCache === "function") {
  nodeModule.enableCompileCache();
  morph = require("ts-morph") as typeof Morph;
} else {
  const common = require.resolve("@ts-morph/common", { paths: [dirname(require.resolve("ts-morph"))] });
  requireWithCodeCache(join(dirname(common), "typescript.js"));
  requireWithCodeCache(common);
  morph = requireWithCodeCache(require.resolve("ts-morph")) as typeof Morph;
}

export const Project = morph.Project;
export type Project = Morph.Project;
export const Node = morph.Node;
export type Node<T extends Morph.ts.Node = Morph.ts.Node> = Morph.Node<T>;
export const SyntaxKind = morph.SyntaxKind;
export type SyntaxKind = Morph.SyntaxKind;

export const ts: typeof Morph.ts = morph.ts;
// A namespace of types only: it merges with the `ts` value above, so `ts.Type` and `ts.TypeFlags.Any` both work.
export declare namespace ts {
  type CallExpression = Morph.ts.CallExpression;
  type ClassDeclaration = Morph.ts.ClassDeclaration;
  type ClassElement = Morph.ts.ClassElement;
  type CompilerOptions = Morph.ts.CompilerOptions;
  type Declaration = Morph.ts.Declaration;
  type Diagnostic = Morph.ts.Diagnostic;
  type Expression = Morph.ts.Expression;
  type InterfaceType = Morph.ts.InterfaceType;
  type IScriptSnapshot = Morph.ts.IScriptSnapshot;
  type JSDocTagInfo = Morph.ts.JSDocTagInfo;
  type MethodDeclaration = Morph.ts.MethodDeclaration;
  type Node = Morph.ts.Node;
  type ParseConfigHost = Morph.ts.ParseConfigHost;
  type ObjectLiteralExpression = Morph.ts.ObjectLiteralExpression;
  type ObjectType = Morph.ts.ObjectType;
  type Program = Morph.ts.Program;
  type ScriptKind = Morph.ts.ScriptKind;
  type SourceFile = Morph.ts.SourceFile;
  type PropertyName = Morph.ts.PropertyName;
  type PropertySignature = Morph.ts.PropertySignature;
  type Symbol = Morph.ts.Symbol;
  type TupleType = Morph.ts.TupleType;
  type Type = Morph.ts.Type;
  type TypeChecker = Morph.ts.TypeChecker;
  type TypeReference = Morph.ts.TypeReference;
  // enums used as types (their members are reached through the value)
  type TypeFlags = Morph.ts.TypeFlags;
  type SymbolFlags = Morph.ts.SymbolFlags;
  type ObjectFlags = Morph.ts.ObjectFlags;
  type ElementFlags = Morph.ts.ElementFlags;
  type SignatureKind = Morph.ts.SignatureKind;
}
