/**
 * One loaded version of a service: the instance (runners injected, `setup()` done) and one compiled route
 * per API (decoder, encoder, validators — all built once here). Hot reload builds a new state and swaps.
 */
import type { ApiManifest, Manifest } from "../../sdk/manifest.ts";
import { normalisePath } from "../http/http-server.ts";
import { createInputDecoder, type DecoderOptions, headersNeeded, type InputDecoder, isNullSchema } from "../io/decode-input.ts";
import { createOutputEncoder, type OutputEncoder } from "../io/encode-output.ts";
import { createSchemaCompiler, type Validate } from "../io/schema-validators.ts";
import type { RunnerHost } from "../runners/runner-host.ts";

export interface ApiRoute {
  readonly api: ApiManifest;
  readonly method: "POST" | "GET";
  /** Body → handler argument (POST). */
  readonly decode: InputDecoder;
  /** Query string → handler argument (GET). */
  readonly decodeQuery: (query: string) => unknown;
  readonly encode: OutputEncoder;
  /** Calls the handler on the instance. */
  readonly invoke: (input: unknown, context: unknown) => unknown;
  /** Request headers the decoder reads besides content-type. */
  readonly headers: readonly string[];
  /** Whether the decoded value may keep a reference to the body bytes (then they must be copied). */
  readonly retainsBody: boolean;
}

export interface ServiceState {
  readonly manifest: Manifest;
  readonly module: Record<string, unknown>;
  readonly runners: RunnerHost;
  readonly openapi: string;
  readonly instance: Record<string, unknown>;
  /** path → method → route. */
  readonly routes: ReadonlyMap<string, ReadonlyMap<string, ApiRoute>>;
  /** Requests currently being served by this state. */
  inflight: number;
  /** Called whenever `inflight` drops to zero. */
  onIdle: (() => void) | undefined;
}

export interface ServiceVersion {
  manifest: Manifest;
  module: Record<string, unknown>;
  runners: RunnerHost;
  openapi: string;
}

export type StateOptions = DecoderOptions;

export async function createServiceState(v: ServiceVersion, options: StateOptions): Promise<ServiceState> {
  const { manifest, module } = v;
  const Cls = module[manifest.service.className];
  if (typeof Cls !== "function") throw new Error(`bundle does not export service class '${manifest.service.className}'`);
  const instance = new (Cls as new () => Record<string, unknown>)();
  for (const dep of manifest.service.dependencies) instance[dep.property] = v.runners.proxy(dep.runner);
  if (typeof instance["setup"] === "function") await (instance["setup"] as () => unknown).call(instance);

  const bodyCompiler = createSchemaCompiler(manifest.$defs);
  const queryCompiler = createSchemaCompiler(manifest.$defs, { coerceTypes: true });
  const routes = new Map<string, Map<string, ApiRoute>>();
  for (const api of manifest.service.apis) {
    const fn = instance[api.name];
    if (typeof fn !== "function") throw new Error(`service class '${manifest.service.className}' has no method '${api.name}'`);
    const method = api.method;
    const kind = api.input.descriptor.kind;
    const route: ApiRoute = {
      api,
      method,
      decode: createInputDecoder(api.input, bodyCompiler, options),
      decodeQuery: method === "GET" ? createQueryDecoder(api.input.schema, queryCompiler.compile(api.input.schema)) : () => undefined,
      encode: createOutputEncoder(api.output.descriptor),
      invoke: api.takesContext
        ? (input, ctx) => (fn as (a: unknown, c: unknown) => unknown).call(instance, input, ctx)
        : (input) => (fn as (a: unknown) => unknown).call(instance, input),
      headers: [...headersNeeded(api.input.descriptor), ...(kind === "file" ? ["x-filename"] : [])],
      retainsBody: kind !== "json" && kind !== "text",
    };
    const path = normalisePath(api.route);
    let byMethod = routes.get(path);
    if (!byMethod) {
      byMethod = new Map();
      routes.set(path, byMethod);
    }
    if (byMethod.has(method)) throw new Error(`two APIs share ${method} ${path}`);
    byMethod.set(method, route);
  }
  return { ...v, instance, routes, inflight: 0, onIdle: undefined };
}

function createQueryDecoder(schema: Record<string, unknown>, validate: Validate | null): (query: string) => unknown {
  const required = Array.isArray(schema["required"]) && schema["required"].length > 0;
  if (isNullSchema(schema)) return () => undefined;
  return (query) => {
    if (!query) {
      if (!required) return undefined;
      validate?.({});
      return {};
    }
    const out: Record<string, unknown> = {};
    for (const [k, val] of new URLSearchParams(query)) {
      const prev = out[k];
      if (prev === undefined) out[k] = val;
      else if (Array.isArray(prev)) prev.push(val);
      else out[k] = [prev, val];
    }
    validate?.(out);
    return out;
  };
}
