/** Images: PNG (pngjs) and JPEG (jpeg-js) decoded into the sdk `Image` (RGBA); PNG/JPEG encoding for outputs. */
import { createRequire } from "node:module";
import type * as JpegJs from "jpeg-js";
import type { PNG as PngClass } from "pngjs";
import type { Image } from "../../sdk/types.ts";
import { BadRequest, PayloadTooLarge } from "../errors/http-errors.ts";

// pngjs and jpeg-js (CommonJS) load on the first image decoded or encoded, not with the server: most
// services take no images (sniffing and header checks below need neither).
const require = createRequire(import.meta.url);
let pngClass: typeof PngClass | undefined;
let jpegModule: typeof JpegJs | undefined;
const pngjs = (): typeof PngClass => (pngClass ??= (require("pngjs") as { PNG: typeof PngClass }).PNG);
const jpegjs = (): typeof JpegJs => (jpegModule ??= require("jpeg-js") as typeof JpegJs);

export type ImageFormat = "png" | "jpeg";

/** Recognises PNG / JPEG by magic bytes. */
export function sniffImage(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  return undefined;
}

export function formatOfMediaType(type: string): ImageFormat | undefined {
  if (type === "image/png") return "png";
  if (type === "image/jpeg" || type === "image/jpg") return "jpeg";
  return undefined;
}

export interface DecodeImageOptions {
  /** Refuse images with more pixels than this (decompression bombs). Default 50 megapixels. */
  maxPixels?: number;
}

/** What an image's header says, read without decoding it. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** Bits per pixel of the decoded data as stored (PNG: bit depth × samples; JPEG: 8 × components). */
  bitsPerPixel: number;
}

/**
 * Most pixels a compressed image of a given size can honestly hold, per byte of file. Deflate (PNG) packs
 * at most 1032 bytes of data into one, and JPEG's entropy coding needs at least one bit per 8×8 block
 * (64 pixels); a header that claims more pixels than its file can carry is a decompression bomb or a
 * truncated file, refused before decoding. The bounds are generous: real images are far below them.
 */
const DEFLATE_MAX_RATIO = 1032;
const JPEG_MAX_PIXELS_PER_BYTE = 64 * 8;

/** Reads width, height and pixel depth from a PNG's IHDR or a JPEG's SOF segment; undefined when absent. */
export function readImageHeader(bytes: Uint8Array, format: ImageFormat): ImageHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "png") {
    if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") return undefined;
    const depth = bytes[24] ?? 8;
    const samples = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25] ?? -1];
    if (samples === undefined) return undefined;
    return { format, width: view.getUint32(16), height: view.getUint32(20), bitsPerPixel: depth * samples };
  }
  // JPEG: walk the marker segments up to the first start-of-frame.
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1] as number;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const length = view.getUint16(i + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { format, height: view.getUint16(i + 5), width: view.getUint16(i + 7), bitsPerPixel: 8 * (bytes[i + 9] ?? 1) };
    if (length < 2) return undefined;
    i += 2 + length;
  }
  return undefined;
}

/**
 * Why an image must not be decoded (a message for the 413), or undefined when it may be: more pixels than
 * `maxPixels`, or more than a file of its size can hold.
 */
export function refuseImage(header: ImageHeader, fileBytes: number, maxPixels: number): string | undefined {
  const pixels = header.width * header.height;
  if (pixels > maxPixels) return `has ${header.width}×${header.height} = ${pixels} pixels, more than the ${maxPixels} this API accepts`;
  const holdable = header.format === "png" ? (fileBytes * DEFLATE_MAX_RATIO * 8) / Math.max(1, header.bitsPerPixel) : fileBytes * JPEG_MAX_PIXELS_PER_BYTE;
  if (pixels > holdable) return `claims ${header.width}×${header.height} pixels, more than a ${fileBytes}-byte ${header.format.toUpperCase()} can hold`;
  return undefined;
}

/** The default pixel cap (`server.max_image_pixels`, `io.image({ maxPixels })`): 50 megapixels. */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

/**
 * Checks an image before it is decoded: the bytes are the declared format, the header is readable, and
 * `refuseImage` lets it through. Throws the 400/413 to answer; returns the header.
 */
export function checkImage(bytes: Uint8Array, declared: ImageFormat, maxPixels: number): ImageHeader {
  const actual = sniffImage(bytes);
  if (actual !== declared) {
    throw new BadRequest(`body is not a valid ${declared.toUpperCase()} image`, "malformed_body", [{ path: "", message: `is not a ${declared} image` }]);
  }
  const header = readImageHeader(bytes, declared);
  if (!header)
    throw new BadRequest(`${declared.toUpperCase()} image has no readable header`, "malformed_body", [{ path: "", message: "has no readable image header" }]);
  const why = refuseImage(header, bytes.byteLength, maxPixels);
  if (why) throw new PayloadTooLarge(bytes.byteLength, `${declared.toUpperCase()} image ${why}`, { width: header.width, height: header.height, maxPixels });
  return header;
}

/** Decodes a checked image (see `checkImage`) into RGBA. Throws 400 when it cannot be decoded. */
export function decodeImage(bytes: Uint8Array, declared: ImageFormat, options: DecodeImageOptions = {}): Image {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  checkImage(bytes, declared, maxPixels);
  const undecodable = () =>
    new BadRequest(`${declared.toUpperCase()} image could not be decoded`, "malformed_body", [{ path: "", message: "could not be decoded" }]);
  if (declared === "png") {
    const PNG = pngjs();
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        width: png.width,
        height: png.height,
        channels: 4,
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
        format: "png",
      };
    } catch {
      throw undecodable();
    }
  }
  const jpeg = jpegjs();
  try {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, channels: 4, data: img.data, format: "jpeg" };
  } catch {
    throw undecodable();
  }
}

/** Encodes an `Image` (1, 3 or 4 channels) as PNG or JPEG. */
export function encodeImage(image: Image, format: ImageFormat): Uint8Array {
  const { width, height, channels } = image;
  const rgba = channels === 4 ? image.data : toRgba(image);
  if (format === "jpeg") return jpegjs().encode({ width, height, data: Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength) }, 90).data;
  const PNG = pngjs();
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}

function toRgba(image: Image): Uint8Array {
  const n = image.width * image.height;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    if (image.channels === 1) {
      const g = image.data[i] ?? 0;
      out[i * 4] = g;
      out[i * 4 + 1] = g;
      out[i * 4 + 2] = g;
    } else {
      out[i * 4] = image.data[i * 3] ?? 0;
      out[i * 4 + 1] = image.data[i * 3 + 1] ?? 0;
      out[i * 4 + 2] = image.data[i * 3 + 2] ?? 0;
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}
