/** 2-D geometry for text boxes: convex hull, minimum-area rectangle, corner order, perspective maps. */
import type { Point } from "./service.ts";

export type Quad = [Point, Point, Point, Point];

function cross(o: Point, a: Point, b: Point): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in a y-down frame, no collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (pts.length < 3) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/** A rectangle of any rotation: centre, unit axis `u` (its width direction), width and height. */
export interface RotatedRect {
  center: Point;
  u: Point;
  width: number;
  height: number;
}

/** Minimum-area enclosing rectangle of a point set (rotating calipers over the hull's edges). */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) throw new Error("minAreaRect of no points");
  if (hull.length < 3) {
    const a = hull[0]!;
    const b = hull[hull.length - 1]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    const u = len > 0 ? { x: (b.x - a.x) / len, y: (b.y - a.y) / len } : { x: 1, y: 0 };
    return { center: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }, u, width: len, height: 0 };
  }
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    if (len === 0) continue;
    const u = { x: (b.x - a.x) / len, y: (b.y - a.y) / len };
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const pu = p.x * u.x + p.y * u.y;
      const pv = -p.x * u.y + p.y * u.x;
      if (pu < minU) minU = pu;
      if (pu > maxU) maxU = pu;
      if (pv < minV) minV = pv;
      if (pv > maxV) maxV = pv;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        center: { x: cu * u.x - cv * u.y, y: cu * u.y + cv * u.x },
        u,
        width: maxU - minU,
        height: maxV - minV,
      };
    }
  }
  return best!;
}

/** The four corners of a rotated rectangle, in no particular order. */
export function rectCorners(r: RotatedRect): Point[] {
  const { center: c, u } = r;
  const v = { x: -u.y, y: u.x };
  const hw = r.width / 2;
  const hh = r.height / 2;
  return [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ].map(([a, b]) => ({ x: c.x + a! * hw * u.x + b! * hh * v.x, y: c.y + a! * hw * u.y + b! * hh * v.y }));
}

/**
 * Orders four corners as top-left, top-right, bottom-right, bottom-left the way PaddleOCR's
 * `get_mini_boxes` does: the two leftmost are the left side, each side's upper point first.
 */
export function orderCorners(corners: readonly Point[]): Quad {
  if (corners.length !== 4) throw new Error(`expected 4 corners, got ${corners.length}`);
  const s = [...corners].sort((a, b) => a.x - b.x || a.y - b.y);
  const [l0, l1, r0, r1] = s as [Point, Point, Point, Point];
  const [tl, bl] = l0.y <= l1.y ? [l0, l1] : [l1, l0];
  const [tr, br] = r0.y <= r1.y ? [r0, r1] : [r1, r0];
  return [tl, tr, br, bl];
}

/** Area (shoelace, absolute) and perimeter of a polygon. */
export function polygonAreaPerimeter(poly: readonly Point[]): { area: number; perimeter: number } {
  let area = 0;
  let perimeter = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    area += a.x * b.y - b.x * a.y;
    perimeter += Math.hypot(b.x - a.x, b.y - a.y);
  }
  return { area: Math.abs(area) / 2, perimeter };
}

/** Whether p lies inside or on a convex polygon (either winding). */
export function insideConvex(poly: readonly Point[], p: Point): boolean {
  let sign = 0;
  for (let i = 0; i < poly.length; i++) {
    const c = cross(poly[i]!, poly[(i + 1) % poly.length]!, p);
    if (Math.abs(c) < 1e-9) continue;
    const s = c > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

/** A 3x3 projective map, row-major, mapping (x, y) to ((a x + b y + c) / w, (d x + e y + f) / w). */
export type Homography = [number, number, number, number, number, number, number, number, number];

/** The homography taking each `from[i]` to `to[i]` (like OpenCV's getPerspectiveTransform). */
export function perspectiveTransform(from: readonly Point[], to: readonly Point[]): Homography {
  if (from.length !== 4 || to.length !== 4) throw new Error("perspectiveTransform needs 4 point pairs");
  // Solve the 8x8 system A h = b for h = [a b c d e f g h], with i = 1.
  const A: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const { x, y } = from[i]!;
    const { x: X, y: Y } = to[i]!;
    A.push([x, y, 1, 0, 0, 0, -x * X, -y * X, X]);
    A.push([0, 0, 0, x, y, 1, -x * Y, -y * Y, Y]);
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[pivot]![col]!)) pivot = r;
    if (Math.abs(A[pivot]![col]!) < 1e-12) throw new Error("degenerate quadrilateral: no perspective transform");
    [A[col], A[pivot]] = [A[pivot]!, A[col]!];
    const row = A[col]!;
    for (let r = 0; r < 8; r++) {
      if (r === col) continue;
      const other = A[r]!;
      const f = other[col]! / row[col]!;
      for (let k = col; k < 9; k++) other[k]! -= f * row[k]!;
    }
  }
  const h = A.map((row, i) => row[8]! / row[i]!);
  return [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, 1];
}

export function applyHomography(m: Homography, x: number, y: number): Point {
  const w = m[6] * x + m[7] * y + m[8];
  return { x: (m[0] * x + m[1] * y + m[2]) / w, y: (m[3] * x + m[4] * y + m[5]) / w };
}
