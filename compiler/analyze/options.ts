/**
 * Reading decorator options statically: literals, arrays, nested objects, `as const`, negative numbers and
 * `io.*()` calls (resolved by symbol to the sdk's `io`). Anything else (a variable, a function call, a
 * spread) is BC1005 at that node: the compiler reports, it never guesses.
 */

import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { SdkSymbols } from "../discover/sdk-symbols.ts";
import { Node, SyntaxKind } from "../ts-morph.ts";

export type StaticValue = string | number | boolean | null | StaticValue[] | { [key: string]: StaticValue };
export type StaticObject = { [key: string]: StaticValue };

export interface ReadOptions {
  /** The options object (empty when absent or unreadable). */
  value: StaticObject;
  /** The node of each read value by dotted path (`traffic.timeoutMs`, `input.shape.1`), for diagnostics. */
  nodes: Map<string, Node>;
  diagnostics: Diagnostic[];
}

const IO_KINDS: Record<string, string> = {
  json: "json",
  text: "text",
  ndarray: "ndarray",
  tensor: "ndarray",
  image: "image",
  file: "file",
  multipart: "multipart",
};

function unwrap(node: Node): Node {
  let n = node;
  for (;;) {
    if (
      Node.isParenthesizedExpression(n) ||
      Node.isAsExpression(n) ||
      Node.isSatisfiesExpression(n) ||
      Node.isNonNullExpression(n) ||
      Node.isTypeAssertion(n)
    ) {
      n = n.getExpression();
    } else return n;
  }
}

class OptionsReader {
  readonly nodes = new Map<string, Node>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly sdk: SdkSymbols) {}

  fail(node: Node): undefined {
    const text = node.getText().replace(/\s+/g, " ");
    this.diagnostics.push(createDiagnostic("BC1005", { text: text.length > 60 ? `${text.slice(0, 57)}...` : text }, node));
    return undefined;
  }

  /** A static value, or undefined (after reporting) when the node is not static; `undefined` itself too. */
  read(node: Node, path: string): StaticValue | undefined {
    this.nodes.set(path, node);
    const n = unwrap(node);
    if (Node.isStringLiteral(n) || Node.isNoSubstitutionTemplateLiteral(n)) return n.getLiteralValue();
    if (Node.isNumericLiteral(n)) return n.getLiteralValue();
    if (n.getKind() === SyntaxKind.TrueKeyword) return true;
    if (n.getKind() === SyntaxKind.FalseKeyword) return false;
    if (n.getKind() === SyntaxKind.NullKeyword) return null;
    if (Node.isPrefixUnaryExpression(n)) {
      const operand = unwrap(n.getOperand());
      const op = n.getOperatorToken();
      if (Node.isNumericLiteral(operand) && (op === SyntaxKind.MinusToken || op === SyntaxKind.PlusToken)) {
        return op === SyntaxKind.MinusToken ? -operand.getLiteralValue() : operand.getLiteralValue();
      }
      return this.fail(n);
    }
    if (Node.isArrayLiteralExpression(n)) {
      const out: StaticValue[] = [];
      n.getElements().forEach((el, i) => {
        if (Node.isSpreadElement(el)) {
          this.fail(el);
          return;
        }
        const v = this.read(el, `${path}.${i}`);
        if (v !== undefined) out.push(v);
      });
      return out;
    }
    if (Node.isObjectLiteralExpression(n)) return this.object(n, path);
    if (Node.isCallExpression(n)) return this.ioCall(n, path);
    if (Node.isIdentifier(n) && n.getText() === "undefined" && n.getSymbol()?.getName() === "undefined") return undefined;
    return this.fail(n);
  }

  object(n: Node, path: string): StaticObject | undefined {
    if (!Node.isObjectLiteralExpression(n)) return this.fail(n);
    const out: StaticObject = {};
    for (const prop of n.getProperties()) {
      if (!Node.isPropertyAssignment(prop)) {
        this.fail(prop);
        continue;
      }
      const nameNode = prop.getNameNode();
      let key: string | undefined;
      if (Node.isIdentifier(nameNode)) key = nameNode.getText();
      else if (Node.isNumericLiteral(nameNode)) key = String(nameNode.getLiteralValue());
      else if (Node.isStringLiteral(nameNode)) key = nameNode.getLiteralValue();
      else if (Node.isComputedPropertyName(nameNode)) {
        const inner = unwrap(nameNode.getExpression());
        key = Node.isStringLiteral(inner) || Node.isNoSubstitutionTemplateLiteral(inner) ? inner.getLiteralValue() : undefined;
      }
      if (key === undefined) {
        this.fail(nameNode);
        continue;
      }
      const childPath = path ? `${path}.${key}` : key;
      const value = this.read(prop.getInitializerOrThrow(), childPath);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }

  ioCall(n: Node, path: string): StaticValue | undefined {
    if (!Node.isCallExpression(n)) return this.fail(n);
    const callee = n.getExpression();
    if (!Node.isPropertyAccessExpression(callee) || !this.sdk.is(callee.getExpression(), "io", "io")) return this.fail(n);
    const kind = IO_KINDS[callee.getName()];
    if (!kind) return this.fail(n);
    const [arg] = n.getArguments();
    if (kind === "multipart") {
      if (!arg) return this.fail(n);
      const parts = this.object(unwrap(arg), `${path}.parts`);
      return parts === undefined ? undefined : { kind, parts };
    }
    if (!arg) return { kind };
    const options = this.object(unwrap(arg), path);
    return options === undefined ? undefined : { kind, ...options };
  }
}

/** Read a decorator's options argument (absent → `{}`). */
export function readOptions(node: Node | undefined, sdk: SdkSymbols): ReadOptions {
  const reader = new OptionsReader(sdk);
  const value = node ? reader.object(unwrap(node), "") : {};
  return { value: value ?? {}, nodes: reader.nodes, diagnostics: reader.diagnostics };
}
