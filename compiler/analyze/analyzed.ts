/**
 * The IR between analyze and validate: the manifest as built, plus the nodes each part came from, so that
 * validation can point its diagnostics at the exact option or declaration.
 */
import type { ClassDeclaration, MethodDeclaration, Node } from "ts-morph";
import type { ApiManifest, Manifest, RunnerManifest, RunnerMethodManifest } from "../../sdk/manifest.ts";
import type { DiscoveredDependency } from "../discover/discovered.ts";
import type { ReadOptions } from "./options.ts";

export interface AnalyzedApi {
  manifest: ApiManifest;
  decl: MethodDeclaration;
  options: ReadOptions;
}

export interface AnalyzedRunnerMethod {
  manifest: RunnerMethodManifest;
  decl: MethodDeclaration;
  options: ReadOptions;
}

export interface AnalyzedRunner {
  manifest: RunnerManifest;
  decl: ClassDeclaration;
  options: ReadOptions;
  methods: AnalyzedRunnerMethod[];
  /** Whether a `depends(...)` of the service names it. */
  used: boolean;
}

export interface AnalyzedService {
  decl: ClassDeclaration;
  options: ReadOptions;
  apis: AnalyzedApi[];
  dependencies: DiscoveredDependency[];
}

export interface Analysis {
  /** Built even when there are errors (with placeholders); the driver drops it then. */
  manifest: Manifest;
  service: AnalyzedService;
  /** Every runner discovered (used or not), in source order. */
  runners: AnalyzedRunner[];
}

/** The node a diagnostic about option `path` should point at: the option's value, else the fallback. */
export function optionNode(options: ReadOptions, path: string, fallback: Node): Node {
  return options.nodes.get(path) ?? fallback;
}
