/**
 * The decorators service authors use. TC39 standard decorators: at run time they only record metadata
 * (in reflect-metadata's store); the compiler reads the same options statically and is the source of truth
 * for types. The compiler recognises these functions by symbol, so `import { api as endpoint }` works.
 */
import "reflect-metadata";
import type { IODescriptor } from "./io.ts";
import type { Resources, RunnerHandle } from "./types.ts";

export const SERVICE_KEY = "bentoc:service";
export const RUNNER_KEY = "bentoc:runner";
export const APIS_KEY = "bentoc:apis";
export const BATCHABLE_KEY = "bentoc:batchable";

export interface ServiceOptions {
  /** Service name (kebab-case); defaults to the class name in kebab-case. */
  name?: string;
  version?: string;
  description?: string;
  traffic?: {
    /** Per-request timeout in milliseconds (504 past it). Default 60000. */
    timeoutMs?: number;
    /** Requests in flight before new ones get 429. Default 1024. */
    maxConcurrency?: number;
  };
  resources?: Resources;
  /** Names of secrets the service reads from the environment (Kubernetes `secretKeyRef`). */
  secrets?: string[];
  /** Labels copied to the manifest and to Kubernetes objects. */
  labels?: Record<string, string>;
}

export interface ApiOptions {
  /** URL path, default `/<method name in kebab-case>`. */
  route?: string;
  method?: "POST" | "GET";
  input?: IODescriptor;
  output?: IODescriptor;
  /** Summary for the OpenAPI document; the method's JSDoc is used when absent. */
  doc?: string;
}

export interface RunnerOptions {
  /** Runner name (kebab-case); defaults to the class name in kebab-case. */
  name?: string;
  /** Model tag in the model store, `name` or `name:version` (`latest` resolves to the newest). */
  model?: string;
  /** Where the runner executes: in the API process (default) or a worker thread. */
  placement?: "inline" | "worker";
  resources?: Resources;
  /** onnxruntime intra-op threads (default: chosen by onnxruntime). */
  threads?: number;
  /** Replica range of the runner's own Deployment when runners are split out (its HorizontalPodAutoscaler). */
  scaling?: {
    /** Default 1. */
    minReplicas?: number;
    /** Default 10. */
    maxReplicas?: number;
  };
}

export interface BatchableOptions {
  /** The dimension along which calls are concatenated; 0 for arrays of items. */
  batchDim?: number;
  maxBatchSize?: number;
  maxLatencyMs?: number;
  /** Group queued items by length (strings, arrays) so batch padding stays small. */
  groupByLength?: boolean;
}

type AnyClass = abstract new (...args: never[]) => unknown;
// biome-ignore lint/suspicious/noExplicitAny: any method of any class: a decorator's method type must accept every `this` and signature
type AnyMethod = (this: any, ...args: any[]) => any;

interface PendingMethod {
  key: typeof APIS_KEY | typeof BATCHABLE_KEY;
  name: string;
  options: object;
}

// Method decorators run before their class decorator, synchronously: they queue here and the class
// decorator takes the queue.
let pending: PendingMethod[] = [];

function takePending(key: PendingMethod["key"]): Record<string, object> {
  const out: Record<string, object> = {};
  for (const p of pending) if (p.key === key) out[p.name] = p.options;
  pending = pending.filter((p) => p.key !== key);
  return out;
}

export function service(options: ServiceOptions = {}) {
  return <C extends AnyClass>(target: C, context: ClassDecoratorContext<C>): void => {
    Reflect.defineMetadata(SERVICE_KEY, { ...options, className: String(context.name) }, target);
    Reflect.defineMetadata(APIS_KEY, takePending(APIS_KEY), target);
  };
}

export function api(options: ApiOptions = {}) {
  // biome-ignore lint/suspicious/noExplicitAny: the decorated method's class is any class (ClassMethodDecoratorContext's This is checked both ways)
  return <M extends AnyMethod>(_method: M, context: ClassMethodDecoratorContext<any, M>): void => {
    pending.push({ key: APIS_KEY, name: String(context.name), options });
  };
}

export function runner(options: RunnerOptions = {}) {
  return <C extends AnyClass>(target: C, context: ClassDecoratorContext<C>): void => {
    Reflect.defineMetadata(RUNNER_KEY, { ...options, className: String(context.name) }, target);
    Reflect.defineMetadata(BATCHABLE_KEY, takePending(BATCHABLE_KEY), target);
  };
}

export function batchable(options: BatchableOptions = {}) {
  // biome-ignore lint/suspicious/noExplicitAny: the decorated method's class is any class (ClassMethodDecoratorContext's This is checked both ways)
  return <M extends AnyMethod>(_method: M, context: ClassMethodDecoratorContext<any, M>): void => {
    pending.push({ key: BATCHABLE_KEY, name: String(context.name), options });
  };
}

/** Marks a field as a handle on a runner; the runtime replaces it with the live (batched) runner. */
export const DEPENDS = Symbol.for("bentoc.depends");

export interface DependsMarker {
  readonly [DEPENDS]: AnyClass;
}

/**
 * A handle on a runner, for a field of the service class. Its type has only the runner's batch methods
 * (`RunnerHandle`): at run time the field is replaced by the live runner, which has nothing else.
 */
export function depends<C extends new () => unknown>(runnerClass: C): RunnerHandle<InstanceType<C>> {
  return { [DEPENDS]: runnerClass } as DependsMarker as unknown as RunnerHandle<InstanceType<C>>;
}

export function isDependsMarker(value: unknown): value is DependsMarker {
  return typeof value === "object" && value !== null && DEPENDS in value;
}
