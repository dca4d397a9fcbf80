/**
 * Stage 2, analyze: read decorator options, turn API and runner signatures into JSON Schemas and assemble
 * the Manifest (sdk/manifest.ts) with DEFAULTS filled in. Reports type-shaped problems here (BC1006,
 * BC1007, BC1008, BC1010, BC1011); cross-checks are the validate stage's.
 */
import { relative, sep } from "node:path";
import type { MethodDeclaration } from "ts-morph";
import { BUNDLE_FILE } from "../../contract/output-files.ts";
import type { IODescriptor } from "../../sdk/io.ts";
import {
  type ApiManifest,
  DEFAULTS,
  type IoSpec,
  type JsonSchema,
  MANIFEST_SCHEMA_VERSION,
  type Manifest,
  type RunnerManifest,
  type RunnerMethodManifest,
  type ServiceManifest,
} from "../../sdk/manifest.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { DiscoveredMethod, DiscoveredRunner, DiscoveredService, Discovery } from "../discover/discovered.ts";
import type { SdkSymbols } from "../discover/sdk-symbols.ts";
import { type Node, ts } from "../ts-morph.ts";
import type { Analysis, AnalyzedApi, AnalyzedRunner, AnalyzedRunnerMethod } from "./analyzed.ts";
import { ioSchema } from "./io-schema.ts";
import { docText } from "./jsdoc-text.ts";
import { kebabCase } from "./names.ts";
import { OptionValues } from "./option-values.ts";
import { readOptions } from "./options.ts";
import { type RunnerReach, runnerReach } from "./runner-reach.ts";
import { arrayElement, isVoidLike, schemaOf, streamShape, unwrapPromise } from "./schema/generate.ts";
import { SchemaContext } from "./schema/schema-context.ts";

export interface BuildOptions {
  discovery: Discovery;
  sdk: SdkSymbols;
  program: ts.Program;
  entryFile: string;
  projectRoot: string;
  compilerVersion: string;
}

class ManifestBuilder {
  readonly diagnostics: Diagnostic[] = [];
  readonly schemas: SchemaContext;
  private readonly checker: ts.TypeChecker;

  constructor(private readonly o: BuildOptions) {
    this.checker = o.sdk.checker;
    this.schemas = new SchemaContext(this.checker, o.program);
  }

  options(node: Node | undefined, fallback: Node): OptionValues {
    const read = readOptions(node, this.o.sdk);
    this.diagnostics.push(...read.diagnostics);
    return new OptionValues(read, fallback, this.diagnostics);
  }

  private isContext(type: ts.Type): boolean {
    const ref = this.o.sdk.refOfType(type);
    return ref?.module === "types" && ref.name === "Context";
  }

  private returnType(decl: MethodDeclaration): ts.Type {
    const signature = this.checker.getSignatureFromDeclaration(decl.compilerNode);
    const type = signature ? this.checker.getReturnTypeOfSignature(signature) : this.checker.getAnyType();
    return unwrapPromise(type, this.checker);
  }

  api(m: DiscoveredMethod, reach: RunnerReach | undefined): AnalyzedApi {
    const { decl } = m;
    const opts = this.options(m.options, m.decorator);
    const doc = docText(decl);
    const input: IODescriptor = opts.descriptor("input") ?? { kind: "json" };
    const output: IODescriptor = opts.descriptor("output") ?? { kind: "json" };
    const params = decl.getParameters();
    const extra = params[2];
    if (extra)
      this.diagnostics.push(createDiagnostic("BC1011", { name: m.name, problem: "takes at most two parameters: the input and an optional Context" }, extra));
    const first = params[0];
    const second = params[1];
    let takesContext = false;
    if (second) {
      takesContext = this.isContext(second.getType().compilerType);
      if (!takesContext)
        this.diagnostics.push(
          createDiagnostic(
            "BC1011",
            { name: m.name, problem: 'has a second parameter that is not a Context (import type { Context } from "bentoc")' },
            second.getTypeNode() ?? second,
          ),
        );
    }
    let inputSchema: JsonSchema = { type: "null" };
    if (first) {
      const type = first.getType().compilerType;
      const node = (first.getTypeNode() ?? first).compilerNode;
      if (this.isContext(type)) {
        this.diagnostics.push(
          createDiagnostic("BC1011", { name: m.name, problem: "takes a Context as its first parameter; the Context comes second, after the input" }, first),
        );
      } else {
        inputSchema = ioSchema(input, { side: "input", type, node, path: first.getName() }, this.schemas, this.o.sdk);
      }
    } else if (input.kind !== "json") {
      this.diagnostics.push(
        createDiagnostic("BC1011", { name: m.name, problem: `declares an io.${input.kind}() input but takes no parameter` }, opts.node("input")),
      );
    }
    let outputSchema: JsonSchema = {};
    let streaming = false;
    const returnNode = decl.getReturnTypeNode();
    if (!returnNode) this.diagnostics.push(createDiagnostic("BC1008", { name: m.name }, decl.getNameNode()));
    else {
      const returned = this.returnType(decl);
      const stream = streamShape(returned, this.checker);
      if (stream.kind === "async") {
        streaming = true;
        outputSchema = this.streamItemSchema(m.name, stream.item, output, opts, returnNode.compilerNode);
      } else if (stream.kind === "unsupported") {
        this.diagnostics.push(createDiagnostic("BC1022", { name: m.name, problem: stream.problem }, returnNode));
      } else outputSchema = ioSchema(output, { side: "output", type: returned, node: returnNode.compilerNode, path: `${m.name}()` }, this.schemas, this.o.sdk);
    }

    const summary = opts.string("doc") ?? doc.summary;
    const description = opts.get("doc") !== undefined ? [doc.summary, doc.description].find((d) => d !== undefined && d !== summary) : doc.description;
    const manifest: ApiManifest = {
      name: m.name,
      route: opts.string("route") ?? `/${kebabCase(m.name)}`,
      method: opts.oneOf("method", ["POST", "GET"] as const) ?? "POST",
      ...(summary !== undefined ? { summary } : {}),
      ...(description !== undefined ? { description } : {}),
      input: { descriptor: input, schema: inputSchema } satisfies IoSpec,
      output: { descriptor: output, schema: outputSchema } satisfies IoSpec,
      streaming,
      takesContext,
      callsRunners: reach?.(decl.compilerNode) ?? false,
      examples: doc.examples,
    };
    return { manifest, decl, options: opts.read };
  }

  /** The schema of one item of a streaming API (BC1022 when the items cannot be streamed as JSON). */
  private streamItemSchema(name: string, item: ts.Type, output: IODescriptor, opts: OptionValues, node: ts.Node): JsonSchema {
    if (output.kind !== "json") {
      this.diagnostics.push(
        createDiagnostic(
          "BC1022",
          { name, problem: `declares an io.${output.kind}() output, but streamed items are sent as JSON (Server-Sent Events or NDJSON): leave 'output' out` },
          opts.node("output"),
        ),
      );
      return {};
    }
    if (isVoidLike(item) || (item.flags & ts.TypeFlags.Never) !== 0 || (item.flags & ts.TypeFlags.Null) !== 0) {
      this.diagnostics.push(
        createDiagnostic(
          "BC1022",
          {
            name,
            problem: `streams items of type '${this.checker.typeToString(item)}': each item must be a JSON value (an object, array, string, number or boolean)`,
          },
          node,
        ),
      );
      return {};
    }
    return schemaOf(item, this.schemas, node, `${name}()[item]`);
  }

  runnerMethod(m: DiscoveredMethod): AnalyzedRunnerMethod {
    const { decl } = m;
    const opts = this.options(m.options, m.decorator);
    const params = decl.getParameters();
    let input: JsonSchema = {};
    let output: JsonSchema = {};
    const first = params[0];
    if (!first) {
      this.diagnostics.push(createDiagnostic("BC1007", { name: m.name, what: "take one parameter: an array of batch items" }, decl.getNameNode()));
    } else {
      const type = first.getType().compilerType;
      const element = arrayElement(type, this.checker);
      const node = (first.getTypeNode() ?? first).compilerNode;
      if (!element) {
        this.diagnostics.push(
          createDiagnostic("BC1007", { name: m.name, what: `take an array of batch items (got '${this.checker.typeToString(type)}')` }, node),
        );
      } else input = schemaOf(element, this.schemas, node, `${first.getName()}[]`);
      for (const extra of params.slice(1)) {
        this.diagnostics.push(createDiagnostic("BC1007", { name: m.name, what: "take exactly one parameter (the array of batch items)" }, extra));
      }
    }
    const returnType = this.returnType(decl);
    const element = arrayElement(returnType, this.checker);
    const returnNode = (decl.getReturnTypeNode() ?? decl.getNameNode()).compilerNode;
    if (!element) {
      this.diagnostics.push(
        createDiagnostic(
          "BC1007",
          { name: m.name, what: `return an array with one result per item (returns '${this.checker.typeToString(returnType)}')` },
          returnNode,
        ),
      );
    } else output = schemaOf(element, this.schemas, returnNode, `${m.name}()[]`);
    const manifest: RunnerMethodManifest = {
      name: m.name,
      batchable: true,
      batchDim: opts.number("batchDim") ?? DEFAULTS.batchDim,
      maxBatchSize: opts.number("maxBatchSize") ?? DEFAULTS.maxBatchSize,
      maxLatencyMs: opts.number("maxLatencyMs") ?? DEFAULTS.maxLatencyMs,
      groupByLength: opts.boolean("groupByLength") ?? false,
      input,
      output,
    };
    return { manifest, decl, options: opts.read };
  }

  runner(r: DiscoveredRunner, used: boolean): AnalyzedRunner {
    const opts = this.options(r.options, r.decorator);
    const methods = r.methods.map((m) => this.runnerMethod(m));
    const manifest: RunnerManifest = {
      name: opts.string("name") ?? kebabCase(r.className),
      className: r.className,
      model: opts.string("model") ?? null,
      placement: opts.oneOf("placement", ["inline", "worker"] as const) ?? "inline",
      resources: opts.resources("resources"),
      threads: opts.number("threads") ?? null,
      scaling: opts.replicaRange("scaling", { minReplicas: DEFAULTS.runnerMinReplicas, maxReplicas: DEFAULTS.runnerMaxReplicas }),
      methods: methods.map((m) => m.manifest),
    };
    return { manifest, decl: r.decl, options: opts.read, methods, used };
  }

  service(s: DiscoveredService, runners: AnalyzedRunner[]): { manifest: ServiceManifest; apis: AnalyzedApi[]; options: OptionValues } {
    const opts = this.options(s.options, s.decorator);
    const dependencies = s.dependencies.flatMap((d) => {
      const runner = runners.find((r) => r.decl === d.target);
      return runner ? [{ property: d.name, runner: runner.manifest.name }] : [];
    });
    const reach = dependencies.length > 0 ? runnerReach(s.decl.compilerNode, new Set(dependencies.map((d) => d.property))) : undefined;
    const apis = s.apis.map((m) => this.api(m, reach));
    const doc = docText(s.decl);
    const description = opts.string("description") ?? [doc.summary, doc.description].filter(Boolean).pop();
    const manifest: ServiceManifest = {
      name: opts.string("name") ?? kebabCase(s.className),
      className: s.className,
      version: opts.string("version") ?? "0.0.0",
      ...(description !== undefined ? { description } : {}),
      labels: sortKeys(opts.stringRecord("labels") ?? {}),
      traffic: {
        timeoutMs: opts.number("traffic.timeoutMs") ?? DEFAULTS.timeoutMs,
        maxConcurrency: opts.number("traffic.maxConcurrency") ?? DEFAULTS.maxConcurrency,
      },
      resources: opts.resources("resources"),
      secrets: opts.stringArray("secrets") ?? [],
      apis: apis.map((a) => a.manifest),
      dependencies,
    };
    return { manifest, apis, options: opts };
  }
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Analyze the first discovered service (validate reports when there is none or more than one). */
export function buildManifest(o: BuildOptions): { analysis: Analysis | null; diagnostics: Diagnostic[] } {
  const service = o.discovery.services[0];
  if (!service) return { analysis: null, diagnostics: [] };
  const b = new ManifestBuilder(o);
  const targets = new Set(service.dependencies.map((d) => d.target));
  const runners = o.discovery.runners.map((r) => b.runner(r, targets.has(r.decl)));
  const built = b.service(service, runners);
  const used = runners.filter((r) => r.used).map((r) => r.manifest);
  used.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.className < y.className ? -1 : 1));
  const manifest: Manifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    compiler: o.compilerVersion,
    service: built.manifest,
    runners: used,
    models: [...new Set(used.map((r) => r.model).filter((m): m is string => m !== null))].sort(),
    $defs: b.schemas.sortedDefs(),
    entry: { source: relative(o.projectRoot, o.entryFile).split(sep).join("/"), bundle: BUNDLE_FILE },
  };
  return {
    analysis: { manifest, service: { decl: service.decl, options: built.options.read, apis: built.apis, dependencies: service.dependencies }, runners },
    diagnostics: [...b.diagnostics, ...b.schemas.diagnostics],
  };
}
