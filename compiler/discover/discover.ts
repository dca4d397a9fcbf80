/**
 * Stage 1, discover: find the classes and members decorated with the sdk's `service`, `api`, `runner`,
 * `batchable`, and the fields initialised with `depends(...)`, resolved by symbol.
 */

import type { ClassDeclaration, Decorator, SourceFile } from "ts-morph";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { Node } from "../ts-morph.ts";
import type { DecoratorUse, DiscoveredDependency, DiscoveredMethod, DiscoveredRunner, DiscoveredService, Discovery } from "./discovered.ts";
import type { SdkSymbols } from "./sdk-symbols.ts";

type SdkDecorator = "service" | "api" | "runner" | "batchable";
const DECORATORS: ReadonlySet<string> = new Set<SdkDecorator>(["service", "api", "runner", "batchable"]);

/** Which sdk decorator this is (by symbol), or undefined for any other decorator. */
export function sdkDecoratorKind(decorator: Decorator, sdk: SdkSymbols): SdkDecorator | undefined {
  const expr = decorator.getExpression();
  const callee = Node.isCallExpression(expr) ? expr.getExpression() : expr;
  const ref = sdk.refOfExpression(callee);
  return ref?.module === "decorators" && DECORATORS.has(ref.name) ? (ref.name as SdkDecorator) : undefined;
}

function use(decorator: Decorator, kind: string, diagnostics: Diagnostic[]): DecoratorUse {
  const expr = decorator.getExpression();
  if (!Node.isCallExpression(expr)) {
    diagnostics.push(createDiagnostic("BC1019", { decorator: kind, problem: `must be called: write @${decorator.getName()}(...)` }, decorator));
    return { decorator, options: undefined };
  }
  return { decorator, options: expr.getArguments()[0] };
}

class Discoverer {
  readonly diagnostics: Diagnostic[] = [];
  private readonly runners = new Map<ClassDeclaration, DiscoveredRunner | null>();

  constructor(private readonly sdk: SdkSymbols) {}

  classKind(decl: ClassDeclaration): { kind: "service" | "runner"; decorator: Decorator } | undefined {
    for (const decorator of decl.getDecorators()) {
      const kind = sdkDecoratorKind(decorator, this.sdk);
      if (kind === "service" || kind === "runner") return { kind, decorator };
    }
    return undefined;
  }

  methods(decl: ClassDeclaration, wanted: "api" | "batchable", owner: string): DiscoveredMethod[] {
    const out: DiscoveredMethod[] = [];
    for (const member of decl.getMembers()) {
      if (!Node.isDecoratable(member)) continue;
      for (const decorator of member.getDecorators()) {
        const kind = sdkDecoratorKind(decorator, this.sdk);
        if (!kind) continue;
        if (kind !== wanted || !Node.isMethodDeclaration(member)) {
          const problem = !Node.isMethodDeclaration(member)
            ? "applies to methods only"
            : kind === "service" || kind === "runner"
              ? "applies to classes only"
              : `is not allowed in a ${owner} class (use @${wanted})`;
          this.diagnostics.push(createDiagnostic("BC1019", { decorator: kind, problem }, decorator));
          continue;
        }
        if (member.isStatic()) {
          this.diagnostics.push(createDiagnostic("BC1019", { decorator: kind, problem: "cannot decorate a static method" }, decorator));
          continue;
        }
        out.push({ ...use(decorator, kind, this.diagnostics), decl: member, name: member.getName() });
      }
    }
    return out;
  }

  runner(decl: ClassDeclaration): DiscoveredRunner | undefined {
    const cached = this.runners.get(decl);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.classKind(decl);
    const runner =
      found?.kind === "runner"
        ? { ...use(found.decorator, "runner", this.diagnostics), decl, className: decl.getName() ?? "", methods: this.methods(decl, "batchable", "runner") }
        : null;
    this.runners.set(decl, runner);
    return runner ?? undefined;
  }

  dependencies(decl: ClassDeclaration): DiscoveredDependency[] {
    const out: DiscoveredDependency[] = [];
    for (const property of decl.getProperties()) {
      const init = property.getInitializer();
      if (!init || !Node.isCallExpression(init) || !this.sdk.is(init.getExpression(), "decorators", "depends")) continue;
      const argument = init.getArguments()[0];
      let target: ClassDeclaration | undefined;
      if (argument) {
        let symbol = argument.getSymbol();
        if (symbol?.isAlias()) symbol = symbol.getAliasedSymbol();
        target = symbol?.getDeclarations().find((d): d is ClassDeclaration => Node.isClassDeclaration(d));
        if (target) this.runner(target);
      }
      out.push({ property, name: property.getName(), call: init, argument, target });
    }
    return out;
  }

  scan(file: SourceFile, services: DiscoveredService[]): void {
    for (const decl of file.getClasses()) {
      const found = this.classKind(decl);
      if (found?.kind === "service") {
        services.push({
          ...use(found.decorator, "service", this.diagnostics),
          decl,
          className: decl.getName() ?? "",
          apis: this.methods(decl, "api", "service"),
          dependencies: this.dependencies(decl),
        });
      } else if (found?.kind === "runner") {
        this.runner(decl);
      } else {
        this.strayMemberDecorators(decl);
      }
    }
  }

  /** sdk member decorators on a class that is neither a service nor a runner. */
  strayMemberDecorators(decl: ClassDeclaration): void {
    for (const member of decl.getMembers()) {
      if (!Node.isDecoratable(member)) continue;
      for (const decorator of member.getDecorators()) {
        const kind = sdkDecoratorKind(decorator, this.sdk);
        if (kind === "api" || kind === "batchable") {
          const needs = kind === "api" ? "@service" : "@runner";
          this.diagnostics.push(
            createDiagnostic(
              "BC1019",
              { decorator: kind, problem: `needs its class '${decl.getName() ?? "(anonymous)"}' to be decorated with ${needs}` },
              decorator,
            ),
          );
        }
      }
    }
  }

  allRunners(): DiscoveredRunner[] {
    const list = [...this.runners.values()].filter((r): r is DiscoveredRunner => r !== null);
    return list.sort((a, b) => compareNodes(a.decl, b.decl));
  }
}

function compareNodes(a: Node, b: Node): number {
  return a.getSourceFile().getFilePath().localeCompare(b.getSourceFile().getFilePath()) || a.getStart() - b.getStart();
}

/** Discover services in `files` (the user's files) and every runner they or their `depends()` reach. */
export function discover(files: readonly SourceFile[], sdk: SdkSymbols): { discovery: Discovery; diagnostics: Diagnostic[] } {
  const d = new Discoverer(sdk);
  const services: DiscoveredService[] = [];
  for (const file of files) d.scan(file, services);
  return { discovery: { services, runners: d.allRunners() }, diagnostics: d.diagnostics };
}
