/**
 * The service-independent part of every generated client, kept here as real TypeScript so the project's
 * type-check covers it. `build-runtime-text.ts` turns everything below the marker into the TS, JS and
 * .d.ts strings of `runtime-text.ts` that `emitClient` pastes into `client/index.*`; a unit test fails
 * when that file is stale. It must stay dependency-free and use only what browsers and Node 20 share
 * (fetch, Headers, Blob, FormData, AbortController, URLSearchParams).
 */
// --- client runtime ---
/** The body of every error the server sends (and of the client's own network/timeout errors). */
export interface ErrorBody {
  /** Human-readable message. */
  error: string;
  /** Machine-readable code: `invalid_input`, `not_found`, `timeout`, `network_error`, ... */
  code: string;
  /** More about the failure; for `invalid_input`, a list of `{ path, message }`. */
  detail?: unknown;
  /** The request id (also the `x-request-id` header); empty when the request never reached a server. */
  requestId: string;
}

/**
 * Every failed call rejects with this. `status` is the HTTP status, or 0 when no response came back
 * (`code` is then `network_error`, `timeout` or `aborted`).
 */
export class BentocClientError extends Error {
  override readonly name: "BentocClientError" = "BentocClientError";
  readonly status: number;
  readonly body: ErrorBody;
  readonly requestId: string;

  constructor(status: number, body: ErrorBody, options?: { cause?: unknown }) {
    super(body.error, options && "cause" in options ? { cause: options.cause } : undefined);
    this.status = status;
    this.body = body;
    this.requestId = body.requestId;
  }

  /** Shorthand for `body.code`. */
  get code(): string {
    return this.body.code;
  }
}

/** A `fetch` implementation: the global one by default (browser, Node 20), or your own. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Where the service is, e.g. `http://localhost:3000` or `/api` (paths are appended to it). */
  baseUrl: string;
  fetch?: FetchLike | undefined;
  /** Headers sent with every call (e.g. `authorization`). */
  headers?: Record<string, string> | undefined;
  /** Abort a call (and reject with code `timeout`) after this many milliseconds. No limit by default. */
  timeoutMs?: number | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number | undefined;
  /** Media type of a binary body (image/file inputs) when it cannot be told from the value. */
  contentType?: string | undefined;
}

/** Bytes for image and file inputs. */
export type BinaryInput = Blob | Uint8Array | ArrayBuffer;

export type DType = "float32" | "float64" | "int8" | "int16" | "int32" | "int64" | "uint8" | "bool" | "string";

type DTypeValue<D extends DType> = D extends "string" ? string : D extends "bool" ? boolean : number;

/** An NdArray as the server returns it: `data` flat, row-major. */
export interface NdArrayJson<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: DTypeValue<D>[];
}

/** An NdArray to send: `data` flat, row-major; typed arrays are accepted. */
export interface NdArrayInput<D extends DType = DType> {
  dtype: D;
  shape: readonly number[];
  data: D extends "string" | "bool" ? readonly DTypeValue<D>[] : ArrayLike<number> | ArrayLike<bigint>;
}

type IoKind = "json" | "text" | "ndarray" | "image" | "file" | "multipart";

interface ApiSpec {
  method: "GET" | "POST";
  route: string;
  input: "none" | "query" | "body";
  in: IoKind;
  out: IoKind;
  /** Media type of a binary input when the value does not tell. */
  contentType?: string;
  accept: string;
  parts?: Record<string, { kind: IoKind; contentType?: string }>;
  /** A streaming API: the method returns an AsyncIterable of the items. */
  stream?: true;
}

type ApiMethod = (...args: unknown[]) => unknown;

function bindApis(options: ClientOptions, apis: Record<string, ApiSpec>): Record<string, ApiMethod> {
  if (typeof options?.baseUrl !== "string") throw new TypeError("createClient: `baseUrl` is required");
  const client: Record<string, ApiMethod> = {};
  for (const [name, spec] of Object.entries(apis)) {
    const send = spec.stream ? streamRequest : request;
    client[name] =
      spec.input === "none"
        ? (call?: unknown) => send(options, spec, undefined, call as CallOptions | undefined)
        : (input?: unknown, call?: unknown) => send(options, spec, input, call as CallOptions | undefined);
  }
  return client;
}

interface PreparedCall {
  url: string;
  init: RequestInit;
  controller: AbortController;
  timeoutMs: number | undefined;
  timedOut: () => boolean;
  signal: AbortSignal | undefined;
  /** Stops the timer (the call's `timeoutMs`). */
  stopTimer: () => void;
  /** Stops the timer and forgets the caller's signal. */
  release: () => void;
}

function prepare(options: ClientOptions, spec: ApiSpec, input: unknown, call: CallOptions | undefined): PreparedCall {
  const headers = new Headers(options.headers);
  for (const [k, v] of Object.entries(call?.headers ?? {})) headers.set(k, v);
  let url = options.baseUrl.replace(/\/+$/, "") + spec.route;
  const init: RequestInit = { method: spec.method, headers };
  if (spec.input === "query") url += queryString(input);
  if (spec.input === "body") {
    const encoded = encodeBody(spec, input, call?.contentType);
    init.body = encoded.body;
    if (encoded.contentType === undefined) headers.delete("content-type");
    else headers.set("content-type", encoded.contentType);
  }
  if (!headers.has("accept")) headers.set("accept", spec.accept);

  const controller = new AbortController();
  init.signal = controller.signal;
  const timeoutMs = call?.timeoutMs ?? options.timeoutMs;
  let timedOut = false;
  const timer =
    timeoutMs !== undefined && timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  const signal = call?.signal;
  const onAbort = (): void => controller.abort();
  if (signal?.aborted) controller.abort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const stopTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
  };
  const release = (): void => {
    stopTimer();
    signal?.removeEventListener("abort", onAbort);
  };
  return { url, init, controller, timeoutMs, timedOut: () => timedOut, signal, stopTimer, release };
}

async function request(options: ClientOptions, spec: ApiSpec, input: unknown, call: CallOptions | undefined): Promise<unknown> {
  const p = prepare(options, spec, input, call);
  const doFetch: FetchLike = options.fetch ?? ((u, i) => globalThis.fetch(u, i));
  try {
    let response: Response;
    try {
      response = await doFetch(p.url, p.init);
    } catch (cause) {
      throw transportError(cause, p.timedOut(), p.timeoutMs, p.signal);
    }
    try {
      if (!response.ok) throw await errorFromResponse(response);
      return await decodeResponse(spec.out, response);
    } catch (cause) {
      if (cause instanceof BentocClientError) throw cause;
      throw transportError(cause, p.timedOut(), p.timeoutMs, p.signal);
    }
  } finally {
    p.release();
  }
}

/**
 * A streaming API's call: nothing is sent until iteration starts; each item is yielded as its line (NDJSON)
 * or event (Server-Sent Events) arrives. `timeoutMs` bounds the wait for the stream to start (its first
 * item); the caller's `signal` and leaving the loop (`break`, `return`, a throw) close the connection, which
 * stops the generator on the server. An error the server sends after the first item rejects the pending
 * `next()` with a `BentocClientError` carrying the server's error body.
 */
function streamRequest(options: ClientOptions, spec: ApiSpec, input: unknown, call: CallOptions | undefined): AsyncIterable<unknown> {
  return { [Symbol.asyncIterator]: () => streamItems(options, spec, input, call) };
}

async function* streamItems(options: ClientOptions, spec: ApiSpec, input: unknown, call: CallOptions | undefined): AsyncGenerator<unknown, void, undefined> {
  const p = prepare(options, spec, input, call);
  const doFetch: FetchLike = options.fetch ?? ((u, i) => globalThis.fetch(u, i));
  let started = false;
  try {
    let response: Response;
    try {
      response = await doFetch(p.url, p.init);
    } catch (cause) {
      throw transportError(cause, p.timedOut(), p.timeoutMs, p.signal);
    }
    if (!response.ok) throw await errorFromResponse(response).catch((cause: unknown) => transportError(cause, p.timedOut(), p.timeoutMs, p.signal));
    const requestId = response.headers.get("x-request-id") ?? "";
    if (!response.body) throw new BentocClientError(response.status, { error: "the response has no body", code: "invalid_response", requestId });
    const sse = (response.headers.get("content-type") ?? "").toLowerCase().startsWith("text/event-stream");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      let chunk: { done: boolean; value?: Uint8Array | undefined };
      try {
        chunk = await reader.read();
      } catch (cause) {
        throw transportError(cause, p.timedOut(), p.timeoutMs, p.signal);
      }
      if (!started) {
        // The stream has started: the call's timeout no longer applies (a long stream is not cut).
        started = true;
        p.stopTimer();
      }
      buffer += chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      if (chunk.done && buffer !== "" && !buffer.endsWith("\n")) buffer += sse ? "\n\n" : "\n";
      const separator = sse ? /\r?\n\r?\n/ : /\r?\n/;
      for (;;) {
        const match = separator.exec(buffer);
        if (!match) break;
        const record = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const item = sse ? parseEvent(record, response.status, requestId) : parseLine(record, response.status, requestId);
        if (item !== NOTHING) yield item;
      }
      if (chunk.done) return;
    }
  } finally {
    p.release();
    // Leaving the loop early (or an error) closes the connection: the server stops the stream.
    p.controller.abort();
  }
}

const NOTHING: unique symbol = Symbol("nothing");

/** One NDJSON line: an item, or `{"$error": <error body>}` (thrown). */
function parseLine(line: string, status: number, requestId: string): unknown {
  if (line.trim() === "") return NOTHING;
  const value = parseItem(line, status, requestId);
  if (value !== null && typeof value === "object" && "$error" in value && isErrorBody((value as { $error: unknown }).$error)) {
    throw new BentocClientError(status, (value as { $error: ErrorBody }).$error);
  }
  return value;
}

/** One Server-Sent Event: `data:` lines joined; `event: error` carries an error body (thrown); comments skipped. */
function parseEvent(record: string, status: number, requestId: string): unknown {
  let event = "message";
  const data: string[] = [];
  for (const line of record.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return NOTHING;
  const value = parseItem(data.join("\n"), status, requestId);
  if (event === "error") {
    const body: ErrorBody = isErrorBody(value) ? value : { error: "the stream failed", code: "stream_error", detail: value, requestId };
    throw new BentocClientError(status, body);
  }
  return value;
}

function parseItem(text: string, status: number, requestId: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BentocClientError(status, { error: "a stream item is not valid JSON", code: "invalid_response", detail: text.slice(0, 200), requestId }, { cause });
  }
}

function transportError(cause: unknown, timedOut: boolean, timeoutMs: number | undefined, signal: AbortSignal | undefined): BentocClientError {
  if (timedOut) return new BentocClientError(0, { error: `request timed out after ${timeoutMs} ms`, code: "timeout", requestId: "" }, { cause });
  if (signal?.aborted) return new BentocClientError(0, { error: "request aborted", code: "aborted", requestId: "" }, { cause });
  const message = cause instanceof Error ? cause.message : String(cause);
  return new BentocClientError(0, { error: `network error: ${message}`, code: "network_error", requestId: "" }, { cause });
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return typeof v["error"] === "string" && typeof v["code"] === "string";
}

async function errorFromResponse(response: Response): Promise<BentocClientError> {
  const text = await response.text();
  const headerId = response.headers.get("x-request-id") ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (isErrorBody(parsed)) {
    const body: ErrorBody = { ...parsed, requestId: typeof parsed.requestId === "string" ? parsed.requestId : headerId };
    return new BentocClientError(response.status, body);
  }
  const body: ErrorBody = {
    error: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
    code: `http_${response.status}`,
    requestId: headerId,
  };
  if (text) body.detail = text;
  return new BentocClientError(response.status, body);
}

async function decodeResponse(kind: IoKind, response: Response): Promise<unknown> {
  switch (kind) {
    case "text":
      return response.text();
    case "image":
    case "file":
    case "multipart":
      return response.blob();
    default: {
      const text = await response.text();
      if (text === "") return null;
      try {
        return JSON.parse(text);
      } catch (cause) {
        throw new BentocClientError(
          response.status,
          { error: "the response is not valid JSON", code: "invalid_response", detail: text.slice(0, 200), requestId: response.headers.get("x-request-id") ?? "" },
          { cause },
        );
      }
    }
  }
}

function encodeBody(spec: ApiSpec, input: unknown, contentType: string | undefined): { body: BodyInit; contentType: string | undefined } {
  switch (spec.in) {
    case "text":
      return { body: String(input), contentType: "text/plain; charset=utf-8" };
    case "ndarray":
      return { body: JSON.stringify(ndarrayToJson(input)), contentType: "application/json" };
    case "image":
    case "file": {
      const type = contentType ?? binaryType(input) ?? spec.contentType ?? "application/octet-stream";
      return { body: toBlob(input, type), contentType: type };
    }
    case "multipart": {
      const form = new FormData();
      const parts = (input ?? {}) as Record<string, unknown>;
      for (const [name, part] of Object.entries(spec.parts ?? {})) {
        const value = parts[name];
        if (value === undefined) continue;
        if (part.kind === "text") form.append(name, String(value));
        else if (part.kind === "json" || part.kind === "ndarray") {
          const json = JSON.stringify(part.kind === "ndarray" ? ndarrayToJson(value) : value);
          form.append(name, new Blob([json], { type: "application/json" }), `${name}.json`);
        } else {
          const type = binaryType(value) ?? part.contentType ?? "application/octet-stream";
          form.append(name, toBlob(value, type), name);
        }
      }
      // fetch sets multipart/form-data with its boundary itself
      return { body: form, contentType: undefined };
    }
    default:
      return { body: JSON.stringify(input === undefined ? null : input), contentType: "application/json" };
  }
}

function toBlob(value: unknown, type: string): Blob {
  if (value instanceof Blob) return value.type === type ? value : new Blob([value], { type });
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return new Blob([value as BlobPart], { type });
  throw new TypeError("expected a Blob, Uint8Array or ArrayBuffer");
}

/** The media type a binary value announces (a Blob's type) or its bytes show (PNG, JPEG signatures). */
function binaryType(value: unknown): string | undefined {
  if (value instanceof Blob) return value.type || undefined;
  let bytes: Uint8Array | undefined;
  if (value instanceof ArrayBuffer) bytes = new Uint8Array(value, 0, Math.min(4, value.byteLength));
  else if (value instanceof Uint8Array) bytes = value;
  if (!bytes) return undefined;
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  return undefined;
}

function ndarrayToJson(value: unknown): NdArrayJson {
  const v = value as NdArrayInput;
  if (v === null || typeof v !== "object" || v.data === undefined) throw new TypeError("expected an NdArray { dtype, shape, data }");
  const data = Array.from(v.data as ArrayLike<unknown>, (x) => (typeof x === "bigint" ? Number(x) : x)) as NdArrayJson["data"];
  return { dtype: v.dtype, shape: Array.from(v.shape), data };
}

function queryString(input: unknown): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries((input ?? {}) as Record<string, unknown>)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      params.append(key, item !== null && typeof item === "object" ? JSON.stringify(item) : String(item));
    }
  }
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}
