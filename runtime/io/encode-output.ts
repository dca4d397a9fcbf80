/**
 * Output encoding per IO descriptor: JSON, text, ndarray (JSON form, or raw bytes when the client
 * `Accept`s `application/octet-stream`), image (PNG/JPEG), file bytes. Built once per API at start.
 */
import type { IODescriptor } from "../../sdk/io.ts";
import type { FileData, Image, NdArray } from "../../sdk/types.ts";
import { acceptsExplicitly } from "./content-type.ts";
import { encodeImage } from "./image-codec.ts";
import { ndarrayToBinary, ndarrayToJson } from "./ndarray-codec.ts";

export interface EncodedOutput {
  contentType: string;
  body: string | Uint8Array;
  /** Extra response headers, flat: name, value, … */
  headers?: string[];
}

export type OutputEncoder = (value: unknown, accept: string | undefined) => EncodedOutput;

export const JSON_TYPE = "application/json";

export function createOutputEncoder(descriptor: IODescriptor): OutputEncoder {
  switch (descriptor.kind) {
    case "text":
      return (value) => ({ contentType: "text/plain; charset=utf-8", body: typeof value === "string" ? value : String(value ?? "") });
    case "ndarray":
      return (value, accept) => {
        const nd = value as NdArray;
        if (acceptsExplicitly(accept, "application/octet-stream") && nd.dtype !== "string") {
          return {
            contentType: "application/octet-stream",
            body: ndarrayToBinary(nd),
            headers: ["x-dtype", nd.dtype, "x-shape", nd.shape.join(",")],
          };
        }
        return { contentType: JSON_TYPE, body: JSON.stringify(ndarrayToJson(nd)) };
      };
    case "image": {
      const format = descriptor.formats?.length === 1 && descriptor.formats[0] === "jpeg" ? "jpeg" : "png";
      return (value, accept) => {
        const img = value as Image;
        const f = acceptsExplicitly(accept, "image/jpeg") && !acceptsExplicitly(accept, "image/png") ? "jpeg" : format;
        return { contentType: `image/${f}`, body: encodeImage(img, f) };
      };
    }
    case "file":
      return (value) => {
        if (value instanceof Uint8Array) return { contentType: descriptor.contentType ?? "application/octet-stream", body: value };
        const file = value as FileData;
        if (!file || !(file.bytes instanceof Uint8Array)) throw new TypeError("handler did not return FileData or bytes");
        const headers: string[] = [];
        if (file.filename) headers.push("content-disposition", `attachment; filename="${file.filename.replace(/["\\\r\n]/g, "_")}"`);
        return { contentType: file.contentType || "application/octet-stream", body: file.bytes, headers };
      };
    default:
      return (value) => ({ contentType: JSON_TYPE, body: value === undefined ? "null" : JSON.stringify(value) });
  }
}
