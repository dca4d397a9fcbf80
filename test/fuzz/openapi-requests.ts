/**
 * Requests for a served bentoc service, generated from its own OpenAPI document (`/docs.json`): for each
 * operation, bodies of every media type it takes — valid, at the boundaries, invalid by one mutation —
 * plus wrong content types, malformed and truncated bodies, random bytes, hostile images, and
 * method/path noise. Each request says what it is, so the test can check what must hold for it.
 */
import pngjs from "pngjs";
import { type Rand, SchemaSampler } from "./schema-sampler.ts";

export type RequestKind = "valid" | "boundary" | "invalid" | "wrong-type" | "malformed" | "bytes" | "noise";

export interface FuzzRequest {
  kind: RequestKind;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** The operation's 200 JSON response schema, when the request is valid and the answer JSON. */
  responseSchema: Record<string, unknown> | undefined;
}

interface Operation {
  method: string;
  path: string;
  content: Record<string, { schema?: Record<string, unknown> }>;
  parameters: { name: string; in: string; schema?: Record<string, unknown>; required?: boolean }[];
  response: Record<string, unknown> | undefined;
}

export class OpenApiRequests {
  private readonly ops: Operation[];
  private readonly sampler: SchemaSampler;
  private readonly images: Buffer[];

  constructor(
    doc: { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Record<string, unknown>> } },
    private readonly rand: Rand,
    /** Share of valid requests (the rest keeps its proportions). Lower for slow APIs such as OCR. */
    private readonly validShare = 0.25,
  ) {
    this.sampler = new SchemaSampler(doc.components?.schemas ?? {}, rand);
    this.ops = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (path === "/livez" || path === "/readyz") continue;
        const ok = op.responses?.["200"]?.content?.["application/json"]?.schema as Record<string, unknown> | undefined;
        this.ops.push({ method: method.toUpperCase(), path, content: op.requestBody?.content ?? {}, parameters: op.parameters ?? [], response: ok });
      }
    }
    // A few small real images (noise, gray and colour), for image APIs.
    this.images = [16, 48, 96].map((size, i) => {
      const png = new pngjs.PNG({ width: size * 2, height: size });
      for (let p = 0; p < png.data.length; p++) png.data[p] = p % 4 === 3 ? 255 : i === 0 ? 255 : Math.floor(rand() * 256);
      return pngjs.PNG.sync.write(png);
    });
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)] as T;
  }

  private bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => Math.floor(this.rand() * 256)));
  }

  /** One request. */
  next(): FuzzRequest {
    const op = this.pick(this.ops);
    const v = this.validShare;
    const r = this.rand();
    const rest = (r - v) / (1 - v); // the others, in the same proportions whatever the valid share
    const kind: RequestKind =
      r < v
        ? "valid"
        : rest < 0.13
          ? "boundary"
          : rest < 0.6
            ? "invalid"
            : rest < 0.73
              ? "wrong-type"
              : rest < 0.84
                ? "malformed"
                : rest < 0.93
                  ? "bytes"
                  : "noise";
    if (kind === "noise") return this.noise(op);
    if (op.method === "GET") return this.query(op, kind);
    const types = Object.keys(op.content);
    const type = this.pick(types.length > 0 ? types : ["application/json"]);
    const schema = op.content[type]?.schema ?? {};
    const base = { method: op.method, path: op.path, responseSchema: undefined as Record<string, unknown> | undefined };
    switch (kind) {
      case "wrong-type":
        return {
          ...base,
          kind,
          headers: {
            "content-type": this.pick(
              ["text/csv", "application/xml", "image/gif", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"].filter((t) => t !== type),
            ),
          },
          body: Buffer.from("a,b\n1,2\n"),
        };
      case "bytes":
        return { ...base, kind, headers: { "content-type": type }, body: this.bytes(this.pick([0, 1, 7, 64, 1024, 20_000])) };
      case "malformed":
        return { ...base, kind, headers: { "content-type": type }, body: this.malformed(type) };
      default:
        return this.body(op, type, schema, kind);
    }
  }

  private body(op: Operation, type: string, schema: Record<string, unknown>, kind: RequestKind): FuzzRequest {
    const headers: Record<string, string> = { "content-type": type };
    const jsonAnswer = kind === "valid" ? op.response : undefined;
    if (type.startsWith("image/")) {
      const body = kind === "valid" ? this.pick(this.images) : this.hostileImage(type);
      return {
        kind: kind === "valid" ? "valid" : "invalid",
        method: op.method,
        path: op.path,
        headers: { "content-type": "image/png" },
        body,
        responseSchema: jsonAnswer,
      };
    }
    if (type === "application/octet-stream") {
      // An NdArray's raw bytes with x-dtype / x-shape; valid when they agree with each other.
      const dtype = kind === "invalid" ? this.pick(["bogus", "float32", "int64"]) : "float32";
      const rows = this.pick([1, 2, 3]);
      const cols = this.pick([1, 3, 8]);
      const count = kind === "invalid" ? rows * cols + this.pick([-1, 1, 5]) : rows * cols;
      headers["x-dtype"] = dtype;
      headers["x-shape"] = kind === "invalid" ? this.pick([`${rows},${cols}`, "x", "-1", "1e9,1e9", ""]) : `${rows},${cols}`;
      return {
        kind: "invalid",
        method: op.method,
        path: op.path,
        headers,
        body: Buffer.from(new Float32Array(Math.max(0, count)).buffer),
        responseSchema: undefined,
      };
    }
    const value = kind === "invalid" ? this.sampler.invalid(schema) : (this.ndarray(schema) ?? this.sampler.valid(schema, 0, kind === "boundary"));
    const body = type === "text/plain" ? Buffer.from(typeof value === "string" ? value : JSON.stringify(value)) : Buffer.from(JSON.stringify(value));
    return { kind, method: op.method, path: op.path, headers, body, responseSchema: type === "text/plain" ? undefined : jsonAnswer };
  }

  /**
   * A consistent NdArray for an NdArray schema (`{ dtype, shape, data }`: its data must hold shape's
   * product of elements, which a JSON Schema cannot say), or undefined for other schemas.
   */
  private ndarray(schema: Record<string, unknown>): unknown {
    const s = this.sampler.resolve(schema);
    const props = s["properties"] as Record<string, Record<string, unknown>> | undefined;
    if (!props?.["dtype"] || !props["shape"] || !props["data"]) return undefined;
    const fixed = props["dtype"]["const"];
    const dtype = typeof fixed === "string" ? fixed : "float32";
    const prefix = (props["shape"]["prefixItems"] as Record<string, unknown>[] | undefined) ?? [{}, {}];
    const shape = prefix.map((d) => (typeof d["const"] === "number" ? d["const"] : 1 + Math.floor(this.rand() * 3)));
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, () =>
      dtype === "bool" ? this.rand() < 0.5 : dtype.startsWith("float") ? Math.round((this.rand() * 20 - 10) * 1000) / 1000 : Math.floor(this.rand() * 100),
    );
    return typeof fixed === "string" ? { shape, data } : { dtype, shape, data };
  }

  private query(op: Operation, kind: RequestKind): FuzzRequest {
    const params = new URLSearchParams();
    for (const p of op.parameters.filter((x) => x.in === "query")) {
      if (!p.required && this.rand() < 0.5) continue;
      const v = kind === "invalid" ? this.sampler.invalid(p.schema ?? {}) : this.sampler.valid(p.schema ?? {});
      params.append(p.name, typeof v === "string" ? v : JSON.stringify(v));
    }
    const qs = params.toString();
    return {
      kind: kind === "valid" || kind === "boundary" ? kind : "invalid",
      method: "GET",
      path: qs ? `${op.path}?${qs}` : op.path,
      headers: {},
      body: undefined,
      responseSchema: kind === "valid" ? op.response : undefined,
    };
  }

  private noise(op: Operation): FuzzRequest {
    const method = this.pick(["PUT", "DELETE", "PATCH", "GET", "POST", "OPTIONS", "HEAD"]);
    const path = this.pick([
      op.path,
      `${op.path}/`,
      `${op.path}/x`,
      "/nope",
      "/%2e%2e/etc/passwd",
      "/docs/../package.json",
      `${op.path}?a=%ZZ`,
      "/_bentoc/batching",
      "//",
    ]);
    return {
      kind: "noise",
      method,
      path,
      headers: { "content-type": "application/json", "x-request-id": this.pick(["ok-1", "a".repeat(300), "bad\tid"]) },
      body: method === "GET" || method === "HEAD" ? undefined : Buffer.from("{}"),
      responseSchema: undefined,
    };
  }

  private malformed(type: string): Buffer {
    if (type === "application/json" || type.endsWith("+json")) {
      return Buffer.from(this.pick(['{"texts": [', '{"a":1,}', "[".repeat(50_000), '{"x": "\\ud800"}', "nul", '{"__proto__":{"x":1}}', "\u00ff\u00fe"]));
    }
    if (type === "text/plain") return Buffer.from([0xc3, 0x28, 0xa0, 0xa1]);
    return this.bytes(32);
  }

  private hostileImage(type: string): Buffer {
    const png = this.pick(this.images);
    return this.pick([
      png.subarray(0, Math.floor(png.length / 2)), // truncated
      Buffer.concat([png.subarray(0, 16), Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]), png.subarray(24)]), // huge IHDR
      Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x1b, 0x58, 0x1b, 0x58, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]), // JPEG header bomb
      this.bytes(200),
      type === "image/png" ? Buffer.from("GIF89a") : png,
    ]);
  }
}
