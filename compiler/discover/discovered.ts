/**
 * The IR between discover and analyze: the decorated classes and members found in the program, as
 * ts-morph nodes, before any option or type is read.
 */
import type { CallExpression, ClassDeclaration, Decorator, MethodDeclaration, Node, PropertyDeclaration } from "ts-morph";

export interface DecoratorUse {
  decorator: Decorator;
  /** The options argument node (first argument), when given. */
  options: Node | undefined;
}

export interface DiscoveredMethod extends DecoratorUse {
  decl: MethodDeclaration;
  name: string;
}

export interface DiscoveredDependency {
  property: PropertyDeclaration;
  name: string;
  call: CallExpression;
  /** The argument of `depends(...)`. */
  argument: Node | undefined;
  /** The class it names, when it names one. */
  target: ClassDeclaration | undefined;
}

export interface DiscoveredService extends DecoratorUse {
  decl: ClassDeclaration;
  className: string;
  apis: DiscoveredMethod[];
  dependencies: DiscoveredDependency[];
}

export interface DiscoveredRunner extends DecoratorUse {
  decl: ClassDeclaration;
  className: string;
  methods: DiscoveredMethod[];
}

export interface Discovery {
  services: DiscoveredService[];
  /** Every runner reached: declared in scanned files or named by a `depends(...)`. Source order. */
  runners: DiscoveredRunner[];
}
