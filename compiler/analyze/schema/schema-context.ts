/**
 * The state of one schema run: the checker, the `$defs` collected so far (named interfaces, aliases,
 * enums and generic instantiations), and the BC1006 diagnostics of unsupported types, each reported at
 * the node closest to the offending field and naming the path to it (`ticket.meta.callback`).
 */

import type { JsonSchema } from "../../../sdk/manifest.ts";
import { createDiagnostic, type Diagnostic } from "../../diagnostics/diagnostic.ts";
import { ts } from "../../ts-morph.ts";
import { annotations } from "./jsdoc.ts";
import { PARSERS } from "./parsers/index.ts";
import { typeName } from "./type-name.ts";

export interface SchemaLocation {
  /** The node diagnostics point at. */
  node: ts.Node;
  /** Path to the value from the parameter or return value, for messages (`ticket.meta.tags[]`). */
  path: string;
}

export class SchemaContext {
  private readonly defs = new Map<string, JsonSchema>();
  private readonly nameOfType = new Map<ts.Type, string>();
  private readonly stack = new Set<ts.Type>();
  private readonly reported = new Set<string>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly checker: ts.TypeChecker,
    readonly program: ts.Program,
  ) {}

  /** Whether a declaration belongs to TypeScript's own lib files (Date, Array, Record, Promise, ...). */
  isLibDeclaration(decl: ts.Declaration): boolean {
    const sf = decl.getSourceFile();
    return this.program.isSourceFileDefaultLibrary(sf) || /[\\/]typescript[\\/]lib[\\/]lib\.[^\\/]*\.d\.ts$/.test(sf.fileName);
  }

  isLibSymbol(symbol: ts.Symbol | undefined): boolean {
    // some, not every: @types/node augments lib interfaces such as Array
    return (symbol?.declarations ?? []).some((d) => this.isLibDeclaration(d));
  }

  /** JSON Schema for a type; named types become `$defs` entries and a `$ref`. */
  toSchema(type: ts.Type, at: SchemaLocation): JsonSchema {
    const name = typeName(type, this);
    if (name === undefined) {
      const body = this.body(type, at);
      const alias = this.erasedAlias(type, at.node);
      return alias ? { ...body, ...annotations(alias, this.checker) } : body;
    }
    const existing = this.nameOfType.get(type);
    if (existing !== undefined) return { $ref: `#/$defs/${existing}` };
    const unique = this.reserve(name);
    this.nameOfType.set(type, unique);
    this.defs.set(unique, {});
    const body = this.body(type, at);
    const symbol = type.aliasSymbol ?? type.getSymbol();
    this.defs.set(unique, { ...annotations(symbol, this.checker), ...body });
    return { $ref: `#/$defs/${unique}` };
  }

  /**
   * The user's type alias a type node names when TypeScript has erased it from the type (an alias of a
   * primitive: `type TicketText = string` is just `string`). Its JSDoc (`@minLength`, ...) still applies
   * where the alias is used, so the schema is inlined with it.
   */
  private erasedAlias(type: ts.Type, node: ts.Node): ts.Symbol | undefined {
    if (type.aliasSymbol || !ts.isTypeReferenceNode(node)) return undefined;
    let symbol = this.checker.getSymbolAtLocation(node.typeName);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    if (!symbol || !(symbol.flags & ts.SymbolFlags.TypeAlias) || this.isLibSymbol(symbol)) return undefined;
    return symbol;
  }

  /** The schema of the type itself, never a `$ref` to it (parsers call back into `toSchema` for children). */
  body(type: ts.Type, at: SchemaLocation): JsonSchema {
    if (this.stack.has(type)) return this.unsupported(type, at, "an anonymous recursive type (give it a name with an interface)");
    this.stack.add(type);
    try {
      for (const parser of PARSERS) if (parser.supports(type, this)) return parser.parse(type, this, at);
      return this.unsupported(type, at, "this kind of type has no JSON Schema");
    } finally {
      this.stack.delete(type);
    }
  }

  private reserve(name: string): string {
    if (!this.defs.has(name)) return name;
    for (let i = 2; ; i++) if (!this.defs.has(`${name}_${i}`)) return `${name}_${i}`;
  }

  unsupported(type: ts.Type, at: SchemaLocation, reason: string): JsonSchema {
    const key = `${at.node.pos}:${at.node.end}:${at.path}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.diagnostics.push(createDiagnostic("BC1006", { type: this.checker.typeToString(type), path: at.path, reason }, at.node));
    }
    return {};
  }

  /** `$defs`, keys sorted. */
  sortedDefs(): Record<string, JsonSchema> {
    return Object.fromEntries([...this.defs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
