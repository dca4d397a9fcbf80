/**
 * Input decoding per IO descriptor, with content negotiation by `Content-Type`. Every client mistake is
 * an `HttpError` (400 / 415), never a plain exception. Decoders are built once per API at start.
 */

import { isUtf8 } from "node:buffer";
import { createRequire } from "node:module";
import type Busboy from "busboy";
import { HttpError } from "../../sdk/errors.ts";
import type { IODescriptor } from "../../sdk/io.ts";
import type { IoSpec, JsonSchema } from "../../sdk/manifest.ts";
import type { FileData } from "../../sdk/types.ts";
import { BadRequest, type FieldProblem, PayloadTooLarge, UnsupportedMediaType } from "../errors/http-errors.ts";
import { isJsonType, mediaTypeMatches, parseContentType } from "./content-type.ts";
import { formatOfMediaType, type ImageFormat, sniffImage } from "./image-codec.ts";
import type { ImageDecoder } from "./image-decoder.ts";
import { ndarrayFromBinary, ndarrayFromJson } from "./ndarray-codec.ts";
import type { SchemaCompiler, Validate } from "./schema-validators.ts";

const require = createRequire(import.meta.url);

export interface RequestMeta {
  /** Raw Content-Type header, if any. */
  contentType: string | undefined;
  /** Lower-case header lookup (only the headers `headersNeeded` named are guaranteed). */
  header(name: string): string | undefined;
}

/** Turns a complete body into the handler's argument; may return a promise (multipart). */
export type InputDecoder = (body: Uint8Array, meta: RequestMeta) => unknown;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Header names (besides content-type) the decoder of `descriptor` reads. */
export function headersNeeded(descriptor: IODescriptor): string[] {
  return descriptor.kind === "ndarray" ? ["x-dtype", "x-shape"] : [];
}

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BadRequest("body is not valid UTF-8", "malformed_body", [{ path: "", message: "is not valid UTF-8" }]);
  }
}

export function parseJsonBody(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new BadRequest("request body is empty; expected JSON", "malformed_body", [{ path: "", message: "is required" }]);
  const text = Buffer.isBuffer(bytes) ? bytes.toString("utf8") : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  // JSON is UTF-8 (RFC 8259): invalid bytes are the client's mistake, not something to replace with U+FFFD.
  // Decoding replaced any with U+FFFD, so only a text holding one needs the bytes checked (an ASCII text,
  // V8's one-byte string, cannot hold it: the search returns at once).
  if (text.includes("\uFFFD") && !isUtf8(bytes))
    throw new BadRequest("body is not valid UTF-8", "malformed_body", [{ path: "", message: "is not valid UTF-8" }]);
  try {
    return JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : "invalid JSON";
    throw new BadRequest(`body is not valid JSON: ${why}`, "malformed_body", [{ path: "", message: "is not valid JSON" }]);
  }
}

/** The compiler marks "no parameter" with `{ "type": "null" }`. */
export function isNullSchema(schema: JsonSchema | undefined): boolean {
  if (schema === undefined) return true;
  return Object.keys(schema).length > 0 && (schema["type"] === "null" || schema["const"] === null) && !("anyOf" in schema) && !("oneOf" in schema);
}

export interface DecoderOptions {
  /** Most pixels of an image input unless its descriptor sets `maxPixels`. */
  maxImagePixels: number;
  /** Decodes images (large ones off the event loop). */
  images: ImageDecoder;
}

export function createInputDecoder(spec: IoSpec, compiler: SchemaCompiler, options: DecoderOptions): InputDecoder {
  const d = spec.descriptor;
  switch (d.kind) {
    case "json": {
      const validate = compiler.compile(spec.schema);
      const acceptsEmpty = validate === null || isNullSchema(spec.schema);
      return (body, meta) => {
        const ct = parseContentType(meta.contentType);
        if (ct && !isJsonType(ct.type)) throw new UnsupportedMediaType(ct.type, ["application/json"]);
        if (body.byteLength === 0 && acceptsEmpty) return undefined;
        const value = parseJsonBody(body);
        validate?.(value, body.byteLength);
        return value;
      };
    }
    case "text": {
      const validate = compiler.compile(spec.schema);
      return (body, meta) => {
        const ct = parseContentType(meta.contentType);
        if (ct && ct.type !== "text/plain") throw new UnsupportedMediaType(ct.type, ["text/plain"]);
        checkCharset(ct?.params["charset"]);
        const text = decodeUtf8(body);
        validate?.(text, body.byteLength);
        return text;
      };
    }
    case "ndarray":
      return (body, meta) => {
        const ct = parseContentType(meta.contentType);
        if (ct?.type === "application/octet-stream") return ndarrayFromBinary(body, meta.header("x-dtype"), meta.header("x-shape"), d);
        if (ct && !isJsonType(ct.type)) throw new UnsupportedMediaType(ct.type, ["application/json", "application/octet-stream"]);
        return ndarrayFromJson(parseJsonBody(body), d);
      };
    case "image": {
      const formats: readonly ImageFormat[] = d.formats && d.formats.length > 0 ? d.formats : ["png", "jpeg"];
      const accepted = formats.map((f) => `image/${f}`);
      return (body, meta) => {
        const ct = parseContentType(meta.contentType);
        let format: ImageFormat | undefined;
        if (!ct || ct.type === "application/octet-stream") format = sniffImage(body);
        else format = formatOfMediaType(ct.type);
        if (!ct && format === undefined) {
          throw new BadRequest("body is not a PNG or JPEG image", "malformed_body", [{ path: "", message: "is not an image" }]);
        }
        if (format === undefined || !formats.includes(format)) throw new UnsupportedMediaType(ct?.type, accepted);
        return options.images.decode(body, format, d.maxPixels ?? options.maxImagePixels);
      };
    }
    case "file": {
      const want = d.contentType;
      return (body, meta) => {
        const ct = parseContentType(meta.contentType);
        const type = ct?.type ?? "application/octet-stream";
        if (want && !mediaTypeMatches(want, type)) throw new UnsupportedMediaType(ct?.type, [want]);
        const file: FileData = { contentType: type, bytes: body };
        const name = meta.header("x-filename");
        if (name) file.filename = name;
        return file;
      };
    }
    case "multipart":
      return createMultipartDecoder(d.parts, spec.schema, compiler, options);
  }
}

function checkCharset(charset: string | undefined): void {
  if (charset === undefined) return;
  const c = charset.toLowerCase();
  if (c !== "utf-8" && c !== "utf8" && c !== "us-ascii") throw new UnsupportedMediaType(`text/plain; charset=${charset}`, ["text/plain; charset=utf-8"]);
}

/** Multipart limits: parts (at least this many, or 4 × the declared parts), headers per part, part name length. */
const MIN_MULTIPART_PARTS = 16;
const MAX_PART_HEADERS = 32;
const MAX_PART_NAME_BYTES = 256;

interface RawPart {
  bytes: Uint8Array;
  contentType: string | undefined;
  filename?: string;
}

type PartDecoder = (part: RawPart) => unknown;

function createMultipartDecoder(
  parts: Readonly<Record<string, IODescriptor>>,
  schema: JsonSchema,
  compiler: SchemaCompiler,
  options: DecoderOptions,
): InputDecoder {
  const props = (schema["properties"] ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(schema["required"]) ? (schema["required"] as string[]) : Object.keys(parts);
  const decoders = new Map<string, PartDecoder>();
  for (const [name, desc] of Object.entries(parts)) decoders.set(name, partDecoder(desc, props[name] ?? {}, compiler, options));
  // Parts the API does not declare are read and dropped; this many of them at most.
  const maxParts = Math.max(MIN_MULTIPART_PARTS, 4 * decoders.size);
  const limits = { parts: maxParts, files: maxParts, fields: maxParts, headerPairs: MAX_PART_HEADERS, fieldNameSize: MAX_PART_NAME_BYTES };

  return (body, meta) => {
    const ct = parseContentType(meta.contentType);
    if (ct?.type !== "multipart/form-data") throw new UnsupportedMediaType(ct?.type, ["multipart/form-data"]);
    if (!ct.params["boundary"])
      throw new BadRequest("multipart body has no boundary", "malformed_body", [{ path: "", message: "Content-Type has no boundary" }]);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const raw = new Map<string, RawPart>();
      let failed = false;
      const fail = (err: unknown): void => {
        if (failed) return;
        failed = true;
        reject(err);
      };
      const malformed = (why: string) =>
        new BadRequest(`malformed multipart body: ${why}`, "malformed_body", [{ path: "", message: "is not valid multipart/form-data" }]);
      // busboy (CommonJS) loads on the first multipart body, not with the server.
      const busboy = require("busboy") as typeof Busboy;
      let bb: Busboy.Busboy;
      try {
        bb = busboy({
          headers: { "content-type": meta.contentType ?? "" },
          limits: { ...limits, fieldSize: body.byteLength + 1, fileSize: body.byteLength + 1 },
        });
      } catch (err) {
        fail(malformed((err as Error).message));
        return;
      }
      const tooMany = (): void => fail(new PayloadTooLarge(body.byteLength, `multipart body has more than ${limits.parts} parts`, { maxParts: limits.parts }));
      bb.on("partsLimit", tooMany);
      bb.on("filesLimit", tooMany);
      bb.on("fieldsLimit", tooMany);
      bb.on("file", (name, stream, info) => {
        const chunks: Buffer[] = [];
        // Every stream gets an error listener: busboy reports a truncated part on the part's stream too
        // ("Unexpected end of form"), and an unhandled 'error' would end the process.
        stream.on("error", (err: Error) => fail(malformed(err.message)));
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const p: RawPart = { bytes: Buffer.concat(chunks), contentType: info.mimeType };
          if (info.filename) p.filename = info.filename;
          raw.set(name, p);
        });
      });
      bb.on("field", (name, value, info) => {
        raw.set(name, { bytes: Buffer.from(value, "utf8"), contentType: info.mimeType });
      });
      bb.on("error", (err: Error) => fail(malformed(err.message)));
      bb.on("close", () => {
        if (failed) return;
        try {
          const problems: FieldProblem[] = [];
          for (const name of required) if (decoders.has(name) && !raw.has(name)) problems.push({ path: `/${name}`, message: "is required" });
          if (problems.length)
            throw new BadRequest(`multipart body is missing part ${problems.map((p) => p.path.slice(1)).join(", ")}`, "invalid_input", problems);
          const out: Record<string, unknown> = {};
          const waiting: Promise<void>[] = [];
          for (const [name, part] of raw) {
            const dec = decoders.get(name);
            if (!dec) continue; // parts the API does not declare are ignored
            let value: unknown;
            try {
              value = dec(part);
            } catch (err) {
              throw prefixed(name, err);
            }
            // Image parts decode asynchronously (large ones off the event loop).
            if (value instanceof Promise)
              waiting.push(
                value.then(
                  (v) => {
                    out[name] = v;
                  },
                  (err: unknown) => Promise.reject(prefixed(name, err)),
                ),
              );
            else out[name] = value;
          }
          if (waiting.length === 0) resolve(out);
          else Promise.all(waiting).then(() => resolve(out), fail);
        } catch (err) {
          fail(err);
        }
      });
      bb.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  };
}

/** A part's 400 as the form's: its field paths under `/<part name>`. Other errors pass unchanged. */
function prefixed(name: string, err: unknown): unknown {
  if (!(err instanceof HttpError) || err.status !== 400) return err;
  const detail: FieldProblem[] = Array.isArray(err.detail)
    ? (err.detail as FieldProblem[]).map((p) => ({
        path: p.path === "" || p.path.startsWith("/") ? `/${name}${p.path}` : `/${name}/${p.path}`,
        message: p.message,
      }))
    : [{ path: `/${name}`, message: err.message }];
  return new BadRequest(`part '${name}': ${err.message}`, err.code === "malformed_body" ? "malformed_body" : "invalid_input", detail);
}

function partDecoder(desc: IODescriptor, schema: JsonSchema, compiler: SchemaCompiler, options: DecoderOptions): PartDecoder {
  if (desc.kind === "multipart") {
    return () => {
      throw new BadRequest("nested multipart parts are not supported", "invalid_input");
    };
  }
  if (desc.kind === "ndarray") {
    return (part) => {
      const ct = parseContentType(part.contentType);
      if (ct?.type === "application/octet-stream") return ndarrayFromBinary(part.bytes, desc.dtype, undefined, desc);
      return ndarrayFromJson(parseJsonBody(part.bytes), desc);
    };
  }
  if (desc.kind === "file") {
    return (part) => {
      const type = parseContentType(part.contentType)?.type ?? "application/octet-stream";
      if (desc.contentType && !mediaTypeMatches(desc.contentType, type)) throw new UnsupportedMediaType(type, [desc.contentType]);
      const file: FileData = { contentType: type, bytes: part.bytes };
      if (part.filename) file.filename = part.filename;
      return file;
    };
  }
  if (desc.kind === "json") {
    // Form fields arrive as text/plain; a JSON part is JSON whatever its declared type.
    const validate: Validate | null = compiler.compile(schema);
    return (part) => {
      const value = parseJsonBody(part.bytes);
      validate?.(value, part.bytes.byteLength);
      return value;
    };
  }
  const whole = createInputDecoder({ descriptor: desc, schema }, compiler, options);
  return (part) => {
    let contentType = part.contentType;
    // Browsers send `application/octet-stream` for blobs without a type; let the codec sniff.
    if (desc.kind === "text" && contentType && parseContentType(contentType)?.type !== "text/plain") contentType = undefined;
    return whole(part.bytes, { contentType, header: () => undefined });
  };
}
