/**
 * Post-processing of a DB (Differentiable Binarization) text-detection probability map, following
 * PaddleOCR's DBPostProcess: threshold, connected regions, minimum-area box, box score, unclip.
 */

import { insideConvex, minAreaRect, orderCorners, polygonAreaPerimeter, type Quad, rectCorners } from "./geometry.ts";
import type { Point } from "./service.ts";

export interface DbOptions {
  /** Pixels with probability above this are text. */
  thresh: number;
  /** Boxes whose mean probability is below this are dropped. */
  boxThresh: number;
  /** How far boxes grow back out: distance = area * ratio / perimeter. */
  unclipRatio: number;
  /** Boxes whose short side is below this (before unclip; +2 after) are dropped. */
  minSize: number;
  /** At most this many regions are considered. */
  maxCandidates: number;
}

/**
 * PaddleOCR's values for PP-OCRv4 detection, unchanged:
 * - `thresh` 0.3, `boxThresh` 0.6, `unclipRatio` 1.5: `--det_db_thresh`, `--det_db_box_thresh` and
 *   `--det_db_unclip_ratio` in tools/infer/utility.py (what predict_system.py and the paddleocr package use);
 * - `maxCandidates` 1000: set by tools/infer/predict_det.py for DB;
 * - `minSize` 3: `self.min_size` in ppocr/postprocess/db_postprocess.py (DBPostProcess).
 * The boxes are what PaddleOCR reports; the recogniser gets a wider crop (see `cropLine`).
 */
export const DB_DEFAULTS: DbOptions = { thresh: 0.3, boxThresh: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 };

/** A probability map, row-major `height * width`. */
export interface ProbMap {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * 8-connected components of `prob > thresh`. Returns, per component, the leftmost and rightmost pixel of
 * each of its rows (enough to know its convex hull), in scan order of their first pixel.
 */
export function connectedRegions(map: ProbMap, thresh: number): Point[][] {
  const { width, height, data } = map;
  const label = new Int32Array(width * height).fill(-1);
  const stack = new Int32Array(width * height);
  const regions: Point[][] = [];
  // Compare in float32, the map's own precision (0.3 stored in a Float32Array is not above 0.3f).
  thresh = Math.fround(thresh);
  for (let start = 0; start < width * height; start++) {
    if (label[start] !== -1 || !(data[start]! > thresh)) continue;
    const id = regions.length;
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const idx = stack[--top]!;
      const x = idx % width;
      const y = (idx - x) / width;
      const lo = rowMin.get(y);
      if (lo === undefined || x < lo) rowMin.set(y, x);
      const hi = rowMax.get(y);
      if (hi === undefined || x > hi) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if ((dx === 0 && dy === 0) || nx < 0 || nx >= width) continue;
          const n = ny * width + nx;
          if (label[n] === -1 && data[n]! > thresh) {
            label[n] = id;
            stack[top++] = n;
          }
        }
      }
    }
    const pts: Point[] = [];
    for (const [y, lo] of rowMin) {
      pts.push({ x: lo, y });
      const hi = rowMax.get(y)!;
      if (hi !== lo) pts.push({ x: hi, y });
    }
    regions.push(pts);
  }
  return regions;
}

/**
 * Mean probability inside a convex quad, as PaddleOCR's `box_score_fast`: the quad's corners truncated to
 * integers (its `astype(np.int32)` before `cv2.fillPoly`), pixels inside or on the edge counted.
 */
export function boxScore(map: ProbMap, quadIn: readonly Point[]): number {
  const quad = quadIn.map((p) => ({ x: Math.trunc(p.x), y: Math.trunc(p.y) }));
  const xs = quad.map((p) => p.x);
  const ys = quad.map((p) => p.y);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(map.width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(map.height - 1, Math.ceil(Math.max(...ys)));
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideConvex(quad, { x, y })) continue;
      sum += map.data[y * map.width + x]!;
      count++;
    }
  }
  return count ? sum / count : 0;
}

/**
 * Text boxes from a probability map, in the map's own pixel coordinates scaled by (scaleX, scaleY)
 * into the source image, rounded, and clipped to [0, imageWidth - 1] x [0, imageHeight - 1]; boxes with a
 * side of 3 pixels or less are dropped (PaddleOCR's `filter_tag_det_res` in tools/infer/predict_det.py).
 */
export function dbBoxes(map: ProbMap, image: { width: number; height: number }, opts: DbOptions = DB_DEFAULTS): Quad[] {
  const scaleX = image.width / map.width;
  const scaleY = image.height / map.height;
  const out: Quad[] = [];
  const regions = connectedRegions(map, opts.thresh).slice(0, opts.maxCandidates);
  for (const region of regions) {
    if (region.length < 3) continue;
    const rect = minAreaRect(region);
    if (Math.min(rect.width, rect.height) < opts.minSize) continue;
    const corners = orderCorners(rectCorners(rect));
    if (boxScore(map, corners) < opts.boxThresh) continue;
    // Unclip: DB's shrunk kernels grow back by area * ratio / perimeter on every side; for a rectangle
    // that is exactly what offsetting its polygon (pyclipper, round joins) and re-fitting a box gives.
    const { area, perimeter } = polygonAreaPerimeter(corners);
    const d = (area * opts.unclipRatio) / perimeter;
    const grown = { ...rect, width: rect.width + 2 * d, height: rect.height + 2 * d };
    if (Math.min(grown.width, grown.height) < opts.minSize + 2) continue;
    const quad = orderCorners(rectCorners(grown)).map((p) => ({
      x: clamp(Math.round(p.x * scaleX), 0, image.width - 1),
      y: clamp(Math.round(p.y * scaleY), 0, image.height - 1),
    })) as Quad;
    const side = (a: Point, b: Point) => Math.trunc(Math.hypot(a.x - b.x, a.y - b.y));
    if (side(quad[0], quad[1]) <= 3 || side(quad[0], quad[3]) <= 3) continue;
    out.push(quad);
  }
  return sortReadingOrder(out);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/**
 * Reading order: top to bottom, and left to right among boxes whose tops are within `sameLine` pixels
 * (PaddleOCR's `sorted_boxes`).
 */
export function sortReadingOrder(boxes: Quad[], sameLine = 10): Quad[] {
  const s = [...boxes].sort((a, b) => a[0].y - b[0].y || a[0].x - b[0].x);
  for (let i = 0; i < s.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = s[j]!;
      const b = s[j + 1]!;
      if (Math.abs(b[0].y - a[0].y) < sameLine && b[0].x < a[0].x) {
        s[j] = b;
        s[j + 1] = a;
      } else break;
    }
  }
  return s;
}
