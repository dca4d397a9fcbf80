/**
 * Whether an API method may call a runner, read from the service class's source. The runtime runs a
 * handler that may inside the request's call scope (deadline, abort signal, trace context across awaits);
 * one that cannot is spared its cost, which on Node 20 and 22 is real (AsyncLocalStorage turns on promise
 * hooks for the whole process).
 *
 * Conservative by construction — a "yes" when unsure: the method, or any method or accessor of the class
 * it reaches through `this.name`, uses a `depends(...)` field, a field that holds something built from
 * `this` (`this.pipeline = new Pipeline(this.classifier)`), `this` itself as a value (passed on, aliased,
 * indexed), or `super`, or a `this.name` the class does not declare when it extends another class.
 */
import { ts } from "../ts-morph.ts";

export type RunnerReach = (method: ts.MethodDeclaration) => boolean;

function memberName(node: ts.ClassElement): string | undefined {
  const name = node.name;
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return undefined;
}

function usesThis(node: ts.Node): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (n.kind === ts.SyntaxKind.ThisKeyword || n.kind === ts.SyntaxKind.SuperKeyword) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** `this.name` (or `this.#name`): the name; undefined for anything else. */
function thisMember(n: ts.Node): string | undefined {
  if (!ts.isPropertyAccessExpression(n) || n.expression.kind !== ts.SyntaxKind.ThisKeyword) return undefined;
  return n.name.text;
}

export function runnerReach(cls: ts.ClassDeclaration, dependencies: ReadonlySet<string>): RunnerReach {
  const bodies = new Map<string, ts.Node[]>();
  const declared = new Set<string>();
  const carrying = new Set<string>(dependencies);
  for (const member of cls.members) {
    const name = memberName(member);
    if (name === undefined) continue;
    declared.add(name);
    if ((ts.isMethodDeclaration(member) || ts.isGetAccessorDeclaration(member) || ts.isSetAccessorDeclaration(member)) && member.body) {
      bodies.set(name, [...(bodies.get(name) ?? []), member.body]);
    }
    if (ts.isPropertyDeclaration(member) && member.initializer && usesThis(member.initializer)) carrying.add(name);
  }
  // Fields assigned anywhere in the class from an expression that uses `this`.
  const assignments = (n: ts.Node): void => {
    if (ts.isBinaryExpression(n) && n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastAssignment) {
      const target = thisMember(n.left);
      if (target !== undefined && usesThis(n.right)) carrying.add(target);
    }
    ts.forEachChild(n, assignments);
  };
  assignments(cls);
  const extendsAnother = (cls.heritageClauses ?? []).some((h) => h.token === ts.SyntaxKind.ExtendsKeyword);

  return (method) => {
    const seen = new Set<ts.Node>();
    const reaches = (root: ts.Node): boolean => {
      if (seen.has(root)) return false;
      seen.add(root);
      let hit = false;
      const visit = (n: ts.Node): void => {
        if (hit) return;
        if (n.kind === ts.SyntaxKind.SuperKeyword) {
          hit = true;
          return;
        }
        if (n.kind === ts.SyntaxKind.ThisKeyword) {
          const name = thisMember(n.parent);
          if (name === undefined)
            hit = true; // `this` as a value: passed on, aliased, indexed
          else if (carrying.has(name)) hit = true;
          else if (!declared.has(name) && extendsAnother) hit = true;
          else for (const body of bodies.get(name) ?? []) if (reaches(body)) hit = true;
          return;
        }
        ts.forEachChild(n, visit);
      };
      visit(root);
      return hit;
    };
    return method.body !== undefined && reaches(method.body);
  };
}
