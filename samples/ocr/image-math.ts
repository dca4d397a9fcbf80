/** Plain-TS image math for the OCR sample: pixel access in BGR order, bilinear sampling and resizing. */
import type { Image } from "bentoc";

/** A float image with three channels in planar (CHW) layout, channel order B, G, R, values 0..255. */
export interface PlanarBgr {
  width: number;
  height: number;
  /** 3 * height * width samples: all B, then all G, then all R. */
  data: Float32Array;
}

/**
 * Converts an sdk Image (gray, RGB or RGBA, interleaved 8-bit) into planar BGR floats. Transparent
 * pixels are composited over white, so text drawn on a transparent canvas stays readable.
 * PaddleOCR's models were trained on OpenCV's BGR order, hence B first.
 */
export function toPlanarBgr(image: Image): PlanarBgr {
  const { width, height, channels, data } = image;
  const n = width * height;
  if (data.length < n * channels) {
    throw new Error(`image data holds ${data.length} bytes, expected ${n * channels} for ${width}x${height}x${channels}`);
  }
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    let r: number;
    let g: number;
    let b: number;
    if (channels === 1) {
      r = g = b = data[i]!;
    } else {
      const o = i * channels;
      r = data[o]!;
      g = data[o + 1]!;
      b = data[o + 2]!;
      if (channels === 4) {
        const a = data[o + 3]! / 255;
        r = r * a + 255 * (1 - a);
        g = g * a + 255 * (1 - a);
        b = b * a + 255 * (1 - a);
      }
    }
    out[i] = b;
    out[n + i] = g;
    out[2 * n + i] = r;
  }
  return { width, height, data: out };
}

/** Bilinear sample of one channel at (x, y) in pixel-centre coordinates, clamping at the border. */
export function sampleBilinear(img: PlanarBgr, channel: number, x: number, y: number): number {
  const { width, height, data } = img;
  const cx = Math.min(Math.max(x, 0), width - 1);
  const cy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const base = channel * width * height;
  const a = data[base + y0 * width + x0]!;
  const b = data[base + y0 * width + x1]!;
  const c = data[base + y1 * width + x0]!;
  const d = data[base + y1 * width + x1]!;
  return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
}

/** Bilinear resize with half-pixel centres (what OpenCV's INTER_LINEAR does). */
export function resizeBilinear(img: PlanarBgr, width: number, height: number): PlanarBgr {
  if (width < 1 || height < 1) throw new Error(`cannot resize to ${width}x${height}`);
  const out = new Float32Array(3 * width * height);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const srcY = (y + 0.5) * sy - 0.5;
    for (let x = 0; x < width; x++) {
      const srcX = (x + 0.5) * sx - 0.5;
      for (let c = 0; c < 3; c++) {
        out[c * width * height + y * width + x] = sampleBilinear(img, c, srcX, srcY);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Bilinear sample of an sdk Image at (x, y) (pixel-centre coordinates, border replicated) into
 * `out` as [B, G, R], transparent pixels over white.
 */
export function sampleImageBgr(image: Image, x: number, y: number, out: Float32Array): void {
  const { width, height, channels, data } = image;
  const cx = Math.min(Math.max(x, 0), width - 1);
  const cy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, width - 1);
  const y1 = Math.min(y0 + 1, height - 1);
  const fx = cx - x0;
  const fy = cy - y0;
  out[0] = out[1] = out[2] = 0;
  const corners: Array<[number, number, number]> = [
    [x0, y0, (1 - fx) * (1 - fy)],
    [x1, y0, fx * (1 - fy)],
    [x0, y1, (1 - fx) * fy],
    [x1, y1, fx * fy],
  ];
  for (const [px, py, w] of corners) {
    if (w === 0) continue;
    const o = (py * width + px) * channels;
    let r: number;
    let g: number;
    let b: number;
    if (channels === 1) {
      r = g = b = data[o]!;
    } else {
      r = data[o]!;
      g = data[o + 1]!;
      b = data[o + 2]!;
      if (channels === 4) {
        const a = data[o + 3]! / 255;
        r = r * a + 255 * (1 - a);
        g = g * a + 255 * (1 - a);
        b = b * a + 255 * (1 - a);
      }
    }
    out[0] += w * b;
    out[1] += w * g;
    out[2] += w * r;
  }
}
