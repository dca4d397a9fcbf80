/** Images: PNG (pngjs) and JPEG (jpeg-js) decoded into the sdk `Image` (RGBA); PNG/JPEG encoding for outputs. */
import pngjs from "pngjs";
import jpeg from "jpeg-js";
import type { Image } from "../../sdk/types.ts";
import { BadRequest } from "../errors/http-errors.ts";

const { PNG } = pngjs;

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

export function decodeImage(bytes: Uint8Array, declared: ImageFormat, options: DecodeImageOptions = {}): Image {
  const maxPixels = options.maxPixels ?? 50_000_000;
  const actual = sniffImage(bytes);
  if (actual !== declared) {
    throw new BadRequest(`body is not a valid ${declared.toUpperCase()} image`, "malformed_body", [{ path: "", message: `is not a ${declared} image` }]);
  }
  try {
    if (declared === "png") {
      // Check the size in the IHDR chunk before pngjs allocates the pixel buffer.
      if (bytes.length >= 24) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (view.getUint32(16) * view.getUint32(20) > maxPixels) throw new RangeError("too many pixels");
      }
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (png.width * png.height > maxPixels) throw new RangeError("too many pixels");
      return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), format: "png" };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, channels: 4, data: img.data, format: "jpeg" };
  } catch (err) {
    const why = err instanceof RangeError && err.message === "too many pixels" ? `has more than ${maxPixels} pixels` : "could not be decoded";
    throw new BadRequest(`${declared.toUpperCase()} image ${why}`, "malformed_body", [{ path: "", message: why }]);
  }
}

/** Encodes an `Image` (1, 3 or 4 channels) as PNG or JPEG. */
export function encodeImage(image: Image, format: ImageFormat): Uint8Array {
  const { width, height, channels } = image;
  const rgba = channels === 4 ? image.data : toRgba(image);
  if (format === "jpeg") return jpeg.encode({ width, height, data: Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength) }, 90).data;
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
