/**
 * IO descriptors: how an API's input or output travels over HTTP when it is not plain JSON.
 * The compiler reads these calls statically (`io.text()`, `io.image({ formats: ["png"] })`); at run time
 * they are plain objects, so the same values are usable from code.
 */
export type DType = "float32" | "float64" | "int8" | "int16" | "int32" | "int64" | "uint8" | "bool" | "string";

export type IODescriptor =
  | { readonly kind: "json" }
  | { readonly kind: "text" }
  | { readonly kind: "ndarray"; readonly dtype?: DType; readonly shape?: readonly (number | null)[] }
  | { readonly kind: "image"; readonly formats?: readonly ("png" | "jpeg")[]; readonly maxPixels?: number }
  | { readonly kind: "file"; readonly contentType?: string }
  | { readonly kind: "multipart"; readonly parts: Readonly<Record<string, IODescriptor>> };

export interface NdArrayOptions {
  dtype?: DType;
  /** Expected shape; `null` (or -1) marks a free dimension such as the batch. */
  shape?: readonly (number | null)[];
}

export interface ImageOptions {
  /** Accepted formats; both by default. */
  formats?: readonly ("png" | "jpeg")[];
  /** Most pixels (width × height) accepted; default `server.max_image_pixels` (50 megapixels). */
  maxPixels?: number;
}

export const io = {
  json: (): IODescriptor => ({ kind: "json" }),
  text: (): IODescriptor => ({ kind: "text" }),
  ndarray: (options: NdArrayOptions = {}): IODescriptor => ({ kind: "ndarray", ...options }),
  /** Alias of `ndarray`, for those who think in tensors. */
  tensor: (options: NdArrayOptions = {}): IODescriptor => ({ kind: "ndarray", ...options }),
  /**
   * A PNG or JPEG image, decoded into an `Image` (RGBA). `maxPixels` caps width × height for this API
   * (default `server.max_image_pixels`, 50 megapixels); a larger image is refused (413) before decoding.
   */
  image: (options: ImageOptions = {}): IODescriptor => ({ kind: "image", ...options }),
  file: (options: { contentType?: string } = {}): IODescriptor => ({ kind: "file", ...options }),
  multipart: (parts: Record<string, IODescriptor>): IODescriptor => ({ kind: "multipart", parts }),
} as const;
