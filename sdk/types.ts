/** Value types that services and runners receive and return. */
import type { DType } from "./io.ts";

export type TypedArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * An n-dimensional array. On the wire (JSON form) it is `{ "dtype", "shape", "data": number[] }`;
 * in code `data` is a typed array matching `dtype` (strings: `string[]`).
 */
export interface NdArray {
  dtype: DType;
  shape: number[];
  data: TypedArray | number[] | string[] | boolean[];
}

/** Tensor is the same value as NdArray; models take and give tensors. */
export type Tensor = NdArray;

/** A decoded image: `channels` interleaved 8-bit samples, row-major (RGBA when channels is 4). */
export interface Image {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
  /** The format it was decoded from. */
  format: "png" | "jpeg" | "raw";
}

/** Raw bytes with their media type, for `io.file()`. */
export interface FileData {
  contentType: string;
  filename?: string;
  bytes: Uint8Array;
}

/** What every API handler may take as its second parameter. */
export interface Context {
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Aborted when the client goes away or the request times out. */
  readonly signal: AbortSignal;
  /** W3C trace context of this request, when tracing is on or the client sent one. */
  readonly traceparent?: string;
}

/**
 * Options of one call on a runner handle. Inside an API handler the request's own signal and deadline
 * apply already; these override them for one call.
 */
export interface RunnerCallOptions {
  /** Aborting removes the call from the queue (rejected 503 `aborted`). */
  signal?: AbortSignal | undefined;
  /** W3C trace context to continue. */
  traceparent?: string | undefined;
  /** Epoch ms (`Date.now()` scale): a call that cannot finish by then is rejected 503 `deadline` before it runs. */
  deadline?: number | undefined;
}

/** The batch call a `@batchable` method `(items: T[]) => R[] | Promise<R[]>` becomes on a runner handle. */
type BatchCall<M> = M extends (...args: infer A) => infer Ret
  ? A extends [infer Items]
    ? Items extends readonly (infer T)[]
      ? Awaited<Ret> extends readonly (infer R)[]
        ? (items: T[], options?: RunnerCallOptions) => Promise<R[]>
        : never
      : never
    : never
  : never;

/**
 * What `depends(RunnerClass)` gives a service: the runner's methods of the batchable shape, one array of
 * items in and a promise of one result per item out (batched behind the scenes, perhaps in another
 * process). Fields, setup methods and other methods are not on it. TypeScript cannot see decorators, so a
 * method of that shape without `@batchable` is reported by the compiler (BC1024).
 */
export type RunnerHandle<R> = {
  readonly [K in keyof R as K extends string ? ([BatchCall<R[K]>] extends [never] ? never : K) : never]: BatchCall<R[K]>;
};

/** A loaded model, injected into a runner's `model` field by the runtime before `setup()`. */
export interface Model {
  readonly tag: string;
  /** Directory holding the model's files in the model store. */
  readonly path: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Tensor>, outputNames?: readonly string[]): Promise<Record<string, Tensor>>;
}

/** Resource requests used for Kubernetes manifests. */
export interface Resources {
  cpu?: string;
  memory?: string;
  gpu?: number;
}
