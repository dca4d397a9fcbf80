/**
 * Recognising the sdk by symbol: a name used in user code is the sdk's `api` (or `io`, `Context`, ...) when,
 * after following import aliases and re-exports, it is declared in `sdk/<module>.ts` (or `.d.ts`/`.js`)
 * inside a package whose package.json is named `bentoc`. A look-alike from another module never matches.
 */

import { dirname, join } from "node:path";
import type { Symbol as MorphSymbol } from "ts-morph";
import { Node, type Project, ts } from "../ts-morph.ts";

export type SdkModule = "decorators" | "io" | "types";

export interface SdkRef {
  module: SdkModule;
  name: string;
}

const SDK_FILE = /[\\/]sdk[\\/](decorators|io|types)\.(?:d\.)?[mc]?[tj]s$/;

export class SdkSymbols {
  private readonly packageNames = new Map<string, string | null>();
  private readonly fileVerdicts = new Map<string, SdkModule | null>();

  constructor(
    private readonly readFile: (path: string) => string | undefined,
    readonly checker: ts.TypeChecker,
  ) {}

  static forProject(project: Project): SdkSymbols {
    const fs = project.getFileSystem();
    const read = (path: string): string | undefined => {
      try {
        return fs.readFileSync(path);
      } catch {
        return undefined;
      }
    };
    return new SdkSymbols(read, project.getTypeChecker().compilerObject);
  }

  /** Which sdk module a file is, or undefined when it is not part of the bentoc package. */
  sdkModuleOfFile(fileName: string): SdkModule | undefined {
    const cached = this.fileVerdicts.get(fileName);
    if (cached !== undefined) return cached ?? undefined;
    const m = SDK_FILE.exec(fileName);
    const verdict = m && this.packageNameAbove(dirname(dirname(fileName))) === "bentoc" ? (m[1] as SdkModule) : null;
    this.fileVerdicts.set(fileName, verdict);
    return verdict ?? undefined;
  }

  /** Whether a file is any file of the bentoc package's `sdk/` folder (never the user's code). */
  isSdkPackageFile(fileName: string): boolean {
    return /[\\/]sdk[\\/][^\\/]+$/.test(fileName) && this.packageNameAbove(dirname(dirname(fileName))) === "bentoc";
  }

  private packageNameAbove(dir: string): string | null {
    const cached = this.packageNames.get(dir);
    if (cached !== undefined) return cached;
    let name: string | null = null;
    const text = this.readFile(join(dir, "package.json"));
    if (text !== undefined) {
      try {
        name = (JSON.parse(text) as { name?: string }).name ?? null;
      } catch {
        name = null;
      }
    } else {
      const parent = dirname(dir);
      name = parent === dir ? null : this.packageNameAbove(parent);
    }
    this.packageNames.set(dir, name);
    return name;
  }

  /** The sdk declaration a raw symbol stands for, following aliases. */
  refOfSymbol(symbol: ts.Symbol | undefined): SdkRef | undefined {
    if (!symbol) return undefined;
    const target = symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
    for (const decl of target.declarations ?? []) {
      const module = this.sdkModuleOfFile(decl.getSourceFile().fileName);
      if (module) return { module, name: target.getName() };
    }
    return undefined;
  }

  /** The sdk declaration an expression names (`api`, `endpoint` aliasing it, `bentoc.api`, `io.text`'s `io`). */
  refOfExpression(expr: Node | ts.Node): SdkRef | undefined {
    const raw = expr instanceof Node ? expr.compilerNode : expr;
    const nameNode = ts.isPropertyAccessExpression(raw) ? raw.name : raw;
    return this.refOfSymbol(this.checker.getSymbolAtLocation(nameNode));
  }

  /** Whether the expression is exactly the sdk's `module.name`. */
  is(expr: Node | ts.Node, module: SdkModule, name: string): boolean {
    const ref = this.refOfExpression(expr);
    return ref?.module === module && ref.name === name;
  }

  /** The sdk type a TypeScript type is declared as (`Context`, `NdArray`, `Image`, ...). */
  refOfType(type: ts.Type): SdkRef | undefined {
    return this.refOfSymbol(type.aliasSymbol) ?? this.refOfSymbol(type.getSymbol());
  }

  morphRef(symbol: MorphSymbol | undefined): SdkRef | undefined {
    return this.refOfSymbol(symbol?.compilerSymbol);
  }
}
