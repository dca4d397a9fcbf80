/**
 * BC1024: the service reaches a member of a `depends()` handle that is not a `@batchable` method of its
 * runner (`this.scorer.explain(...)`, `this.scorer.threshold`). At run time the handle has only the batchable
 * methods. The sdk's `RunnerHandle` type already drops fields and methods of other shapes (TS2339), but it
 * cannot see decorators: a method of the batch shape without `@batchable` passes TypeScript, and is caught
 * here. Every access is reported (with a hint for its kind), so `--no-typecheck` misses none.
 *
 * Accesses are read from the service class's source: `this.field.member` and `this.field["member"]`. A
 * handle passed on or aliased is not followed (TypeScript's types still hold for it).
 */
import type { ClassDeclaration } from "ts-morph";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { DiscoveredRunner } from "../discover/discovered.ts";
import { Node, ts } from "../ts-morph.ts";
import type { Rule } from "./rules.ts";

/** `this.field` or `this.#field`: the name. */
function thisField(n: ts.Node): string | undefined {
  if (!ts.isPropertyAccessExpression(n) || n.expression.kind !== ts.SyntaxKind.ThisKeyword) return undefined;
  return n.name.text;
}

/** The member reached from a handle expression: `handle.member` or `handle["member"]`. */
function memberOf(parent: ts.Node, handle: ts.Node): { name: string; node: ts.Node } | undefined {
  if (ts.isPropertyAccessExpression(parent) && parent.expression === handle) return { name: parent.name.text, node: parent.name };
  if (ts.isElementAccessExpression(parent) && parent.expression === handle && ts.isStringLiteralLike(parent.argumentExpression)) {
    return { name: parent.argumentExpression.text, node: parent.argumentExpression };
  }
  return undefined;
}

function hintFor(runner: DiscoveredRunner, member: string): string {
  const decl = runner.decl.getMember(member);
  if (decl && Node.isMethodDeclaration(decl)) {
    const [first, ...rest] = decl.getParameters();
    if (first && rest.length === 0 && first.getType().isArray()) {
      return `Decorate ${runner.className}.${member} with @batchable to call it through the handle, or do this work in a @batchable method.`;
    }
    return `Only @batchable methods (an array of items in, one result per item out) can be called through depends(); call ${member} inside one.`;
  }
  if (decl) return `A runner's fields stay in the runner (it may run in another process): return what the service needs from a @batchable method.`;
  return `${runner.className} has no member '${member}'.`;
}

function check(service: ClassDeclaration, handles: ReadonlyMap<string, DiscoveredRunner>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (n: ts.Node): void => {
    const field = thisField(n);
    const runner = field === undefined ? undefined : handles.get(field);
    if (field !== undefined && runner) {
      const member = memberOf(n.parent, n);
      const batchable = runner.methods.map((m) => m.name);
      if (member && !batchable.includes(member.name)) {
        out.push(
          createDiagnostic(
            "BC1024",
            {
              member: member.name,
              className: runner.className,
              field,
              methods: batchable.length > 0 ? batchable.join(", ") : "it has none",
              hint: hintFor(runner, member.name),
            },
            member.node,
          ),
        );
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(service.compilerNode);
  return out;
}

export const runnerHandles: Rule = ({ discovery }) => {
  const service = discovery.services[0];
  if (!service) return [];
  const runners = new Map(discovery.runners.map((r) => [r.decl, r]));
  const handles = new Map<string, DiscoveredRunner>();
  for (const dep of service.dependencies) {
    const runner = dep.target ? runners.get(dep.target) : undefined;
    if (runner) handles.set(dep.name, runner);
  }
  return handles.size === 0 ? [] : check(service.decl, handles);
};
