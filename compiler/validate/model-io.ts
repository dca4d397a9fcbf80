/**
 * BC1027: a runner and its model's graph inputs and outputs cannot fit, when the model catalogue (the local
 * store's listing) has the model. Conservative: a runner converts its items in code (a tokenizer turns
 * strings into int64 ids, a reshape flattens rows), so only what is certain to fail is reported:
 *
 * - a `this.model.run({ … })` call whose object literal feeds an input the graph does not have, leaves out
 *   one it has (a literal without spreads), gives a literal `dtype` other than the input's, or a literal
 *   `shape` whose length is not the input's rank (onnxruntime rejects each of these on every call);
 * - an output read by a literal name from the result (`out["y"]`, `out.y`, `const { y } = …`, or the
 *   `outputNames` argument) that the graph does not have;
 *
 * BC2004, a warning: a `@batchable` method whose items are numbers or booleans (or arrays of them) while
 * every input of the model is a string tensor, or whose results are numbers while every output is a string
 * tensor — most likely the wrong model, though code could still convert them.
 */

import type { JsonSchema } from "../../sdk/manifest.ts";
import type { AnalyzedRunner, AnalyzedRunnerMethod } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { SdkSymbols } from "../discover/sdk-symbols.ts";
import { type CatalogueModel, type CatalogueTensor, findModel } from "../model-catalogue.ts";
import { ts } from "../ts-morph.ts";
import { MODEL_TAG_PATTERN } from "./names.ts";
import type { Rule } from "./rules.ts";
import { MODEL_FIELD, modelFields } from "./runner-models.ts";

function describe(t: CatalogueTensor): string {
  return `${t.name}: ${t.dtype}[${t.shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

function list(tensors: readonly CatalogueTensor[]): string {
  return tensors.length > 0 ? tensors.map(describe).join(", ") : "none";
}

/** A literal name: `x`, `"x"`, `'x'`, or a computed `["x"]`. */
function literalName(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name) && ts.isStringLiteralLike(name.expression)) return name.expression.text;
  return undefined;
}

function property(obj: ts.ObjectLiteralExpression, key: string): ts.Expression | undefined {
  for (const p of obj.properties) if (ts.isPropertyAssignment(p) && literalName(p.name) === key) return p.initializer;
  return undefined;
}

class Checker {
  readonly out: Diagnostic[] = [];
  /** The model as the runner names it (`name:latest` rather than the version it resolves to today). */
  private readonly tag: string;
  constructor(
    private readonly runner: AnalyzedRunner,
    private readonly model: CatalogueModel,
  ) {
    this.tag = runner.manifest.model ?? model.tag;
  }

  report(problem: string, hint: string, at: ts.Node, code: "BC1027" | "BC2004" = "BC1027"): void {
    this.out.push(createDiagnostic(code, { className: this.runner.manifest.className, tag: this.tag, problem, hint }, at));
  }

  /** The feeds of one `run()` call. */
  feeds(obj: ts.ObjectLiteralExpression): void {
    const { model } = this;
    const inputs = new Map(model.inputs.map((i) => [i.name, i]));
    const fed = new Set<string>();
    let complete = true;
    for (const p of obj.properties) {
      const name = ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p) ? literalName(p.name) : undefined;
      if (name === undefined || !(ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p))) {
        complete = false; // a spread, a method, a computed name: the keys are not all known
        continue;
      }
      fed.add(name);
      const input = inputs.get(name);
      if (!input) {
        this.report(
          `the model has no input '${name}' (its inputs: ${list(model.inputs)})`,
          "Feed the graph's input names (`bentoc models get <tag>` lists them).",
          p.name,
        );
        continue;
      }
      if (ts.isPropertyAssignment(p) && ts.isObjectLiteralExpression(p.initializer)) this.tensor(p.initializer, input);
    }
    const missing = model.inputs.filter((i) => !fed.has(i.name));
    if (complete && missing.length > 0) {
      this.report(
        `this run() call does not feed input${missing.length === 1 ? "" : "s"} ${missing.map((i) => `'${i.name}'`).join(", ")} (the model's inputs: ${list(model.inputs)})`,
        "Every graph input needs a tensor on every call.",
        obj,
      );
    }
  }

  /** A literal tensor `{ dtype, shape, data }` fed to `input`. */
  tensor(obj: ts.ObjectLiteralExpression, input: CatalogueTensor): void {
    const dtype = property(obj, "dtype");
    if (dtype && ts.isStringLiteralLike(dtype) && input.dtype !== "unknown" && dtype.text !== input.dtype) {
      this.report(
        `input '${input.name}' is a ${input.dtype} tensor, but this feed is ${dtype.text}`,
        `Build the tensor as ${input.dtype} (onnxruntime does not convert element types).`,
        dtype,
      );
    }
    const shape = property(obj, "shape");
    if (
      shape &&
      ts.isArrayLiteralExpression(shape) &&
      !shape.elements.some(ts.isSpreadElement) &&
      input.shape.length > 0 &&
      shape.elements.length !== input.shape.length
    ) {
      this.report(
        `input '${input.name}' has rank ${input.shape.length} (${describe(input)}), but this feed's shape has ${shape.elements.length} dimension${shape.elements.length === 1 ? "" : "s"}`,
        `Give the tensor ${input.shape.length} dimensions, the first the batch.`,
        shape,
      );
    }
  }

  /** An output read by name from the result of `run()`. */
  output(name: string, at: ts.Node): void {
    if (this.model.outputs.some((o) => o.name === name)) return;
    this.report(
      `the model has no output '${name}' (its outputs: ${list(this.model.outputs)})`,
      "Read the graph's output names (`bentoc models get <tag>` lists them).",
      at,
    );
  }

  /** Reads of the awaited result of a `run()` call: a variable's `.y` / `["y"]`, or a destructuring. */
  results(call: ts.CallExpression, checker: ts.TypeChecker): void {
    const names = call.arguments[1];
    if (names && ts.isArrayLiteralExpression(names)) for (const e of names.elements) if (ts.isStringLiteralLike(e)) this.output(e.text, e);
    let use: ts.Node = call;
    while (ts.isParenthesizedExpression(use.parent) || ts.isAwaitExpression(use.parent)) use = use.parent;
    const parent = use.parent;
    if (!ts.isVariableDeclaration(parent) || parent.initializer !== use || !ts.isAwaitExpression(use)) return;
    if (ts.isObjectBindingPattern(parent.name)) {
      for (const e of parent.name.elements) {
        if (e.dotDotDotToken) continue;
        const name = e.propertyName ? literalName(e.propertyName) : ts.isIdentifier(e.name) ? e.name.text : undefined;
        if (name !== undefined) this.output(name, e.propertyName ?? e.name);
      }
      return;
    }
    const symbol = checker.getSymbolAtLocation(parent.name);
    let scope: ts.Node | undefined = parent;
    while (scope && !ts.isFunctionLike(scope)) scope = scope.parent;
    if (!symbol || !scope) return;
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n) && n !== parent.name && checker.getSymbolAtLocation(n) === symbol) {
        const access = n.parent;
        if (ts.isPropertyAccessExpression(access) && access.expression === n) this.output(access.name.text, access.name);
        else if (ts.isElementAccessExpression(access) && access.expression === n && ts.isStringLiteralLike(access.argumentExpression))
          this.output(access.argumentExpression.text, access.argumentExpression);
      }
      ts.forEachChild(n, visit);
    };
    visit(scope);
  }

  /** Items unlike every tensor of the model: numbers in while every input is a string tensor (and the same out). */
  items(m: AnalyzedRunnerMethod): void {
    const { model } = this;
    const kindIn = itemKind(m.manifest.input);
    const param = m.decl.getParameters()[0];
    if (kindIn === "numeric" && model.inputs.length > 0 && model.inputs.every((i) => i.dtype === "string") && param) {
      this.report(
        `@batchable ${m.manifest.name} takes numeric items, but every input of the model is a string tensor (${list(model.inputs)})`,
        "Check that the runner names the right model, or declare the items the model reads (strings).",
        (param.getTypeNode() ?? param).compilerNode,
        "BC2004",
      );
    }
    const kindOut = itemKind(m.manifest.output);
    if (kindOut === "numeric" && model.outputs.length > 0 && model.outputs.every((o) => o.dtype === "string")) {
      this.report(
        `@batchable ${m.manifest.name} returns numeric items, but every output of the model is a string tensor (${list(model.outputs)})`,
        "Check that the runner names the right model, or declare the results the model gives (strings).",
        (m.decl.getReturnTypeNode() ?? m.decl.getNameNode()).compilerNode,
        "BC2004",
      );
    }
  }
}

/** `numeric` for numbers, integers, booleans and (nested) arrays of them; `string` for plain strings; else unknown. */
function itemKind(schema: JsonSchema): "numeric" | "string" | undefined {
  const type = schema["type"];
  if (type === "number" || type === "integer" || type === "boolean") return "numeric";
  if (type === "string") return schema["contentEncoding"] === undefined && schema["format"] === undefined ? "string" : undefined;
  const items = schema["items"];
  if (type === "array" && typeof items === "object" && items !== null && !Array.isArray(items)) {
    return itemKind(items as JsonSchema) === "numeric" ? "numeric" : undefined;
  }
  return undefined;
}

/** `this.<field>.run(...)` calls in a runner class, for its Model fields. */
function runCalls(r: AnalyzedRunner, fields: ReadonlySet<string>): ts.CallExpression[] {
  const out: ts.CallExpression[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === "run") {
      const target = n.expression.expression;
      if (ts.isPropertyAccessExpression(target) && target.expression.kind === ts.SyntaxKind.ThisKeyword && fields.has(target.name.text)) out.push(n);
    }
    ts.forEachChild(n, visit);
  };
  visit(r.decl.compilerNode);
  return out;
}

function checkRunner(r: AnalyzedRunner, model: CatalogueModel, sdk: SdkSymbols): Diagnostic[] {
  const c = new Checker(r, model);
  for (const m of r.methods) c.items(m);
  const fields = new Set(
    modelFields(r.decl, sdk)
      .map((f) => f.getName())
      .filter((n) => n === MODEL_FIELD),
  );
  for (const call of runCalls(r, fields)) {
    const feeds = call.arguments[0];
    if (feeds && ts.isObjectLiteralExpression(feeds)) c.feeds(feeds);
    c.results(call, sdk.checker);
  }
  return c.out;
}

export const modelIo: Rule = ({ analysis, sdk, models }) => {
  if (!analysis || !models) return [];
  const out: Diagnostic[] = [];
  for (const r of analysis.runners) {
    const tag = r.manifest.model;
    if (!r.used || tag === null || !MODEL_TAG_PATTERN.test(tag)) continue;
    const model = findModel(models, tag);
    if (model) out.push(...checkRunner(r, model, sdk));
  }
  return out;
};
