import { describe, expect, it } from "vitest";
import {
  applyHomography,
  convexHull,
  insideConvex,
  minAreaRect,
  orderCorners,
  perspectiveTransform,
  polygonAreaPerimeter,
  rectCorners,
} from "../../../samples/ocr/geometry.ts";

describe("convexHull", () => {
  it("drops interior and collinear points", () => {
    const pts = [
      { x: 0, y: 0 },
      { x: 2, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 3 },
      { x: 0, y: 3 },
      { x: 1, y: 1 },
      { x: 3, y: 2 },
    ];
    const hull = convexHull(pts);
    expect(hull).toHaveLength(4);
    expect(polygonAreaPerimeter(hull)).toEqual({ area: 12, perimeter: 14 });
  });
});

describe("minAreaRect", () => {
  it("finds a rotated rectangle's true size, not its axis-aligned bounding box", () => {
    const angle = (20 * Math.PI) / 180;
    const u = { x: Math.cos(angle), y: Math.sin(angle) };
    const pts = [];
    for (let a = 0; a <= 100; a += 5) {
      for (let b = 0; b <= 20; b += 5) pts.push({ x: 50 + a * u.x - b * u.y, y: 30 + a * u.y + b * u.x });
    }
    const r = minAreaRect(pts);
    const [w, h] = [Math.max(r.width, r.height), Math.min(r.width, r.height)];
    expect(w).toBeCloseTo(100, 6);
    expect(h).toBeCloseTo(20, 6);
    const corners = rectCorners(r);
    for (const p of pts) expect(insideConvex(corners, p)).toBe(true);
  });

  it("gives a zero-height rectangle for collinear points", () => {
    const r = minAreaRect([
      { x: 0, y: 5 },
      { x: 10, y: 5 },
      { x: 4, y: 5 },
    ]);
    expect(Math.min(r.width, r.height)).toBeCloseTo(0, 9);
    expect(Math.max(r.width, r.height)).toBeCloseTo(10, 9);
  });
});

describe("orderCorners", () => {
  it("orders top-left, top-right, bottom-right, bottom-left whatever the input order", () => {
    const tl = { x: 1, y: 2 };
    const tr = { x: 9, y: 1 };
    const br = { x: 10, y: 6 };
    const bl = { x: 2, y: 7 };
    expect(orderCorners([br, tl, bl, tr])).toEqual([tl, tr, br, bl]);
    expect(orderCorners([bl, br, tr, tl])).toEqual([tl, tr, br, bl]);
  });
});

describe("insideConvex", () => {
  const sq = [
    { x: 0, y: 0 },
    { x: 4, y: 0 },
    { x: 4, y: 4 },
    { x: 0, y: 4 },
  ];
  it("accepts inside and boundary points and rejects outside ones, in both windings", () => {
    for (const poly of [sq, [...sq].reverse()]) {
      expect(insideConvex(poly, { x: 2, y: 2 })).toBe(true);
      expect(insideConvex(poly, { x: 4, y: 2 })).toBe(true);
      expect(insideConvex(poly, { x: 5, y: 2 })).toBe(false);
      expect(insideConvex(poly, { x: -0.1, y: 0 })).toBe(false);
    }
  });
});

describe("perspectiveTransform", () => {
  it("maps each source corner onto its destination and is projective in between", () => {
    const from = [
      { x: 0, y: 0 },
      { x: 100, y: 0 },
      { x: 100, y: 40 },
      { x: 0, y: 40 },
    ];
    const to = [
      { x: 10, y: 20 },
      { x: 130, y: 10 },
      { x: 140, y: 70 },
      { x: 5, y: 60 },
    ];
    const m = perspectiveTransform(from, to);
    from.forEach((p, i) => {
      const q = applyHomography(m, p.x, p.y);
      expect(q.x).toBeCloseTo(to[i]!.x, 6);
      expect(q.y).toBeCloseTo(to[i]!.y, 6);
    });
    // Lines stay lines: the midpoint of an edge maps onto the image edge.
    const mid = applyHomography(m, 50, 0);
    const t = (mid.x - 10) / 120;
    expect(mid.y).toBeCloseTo(20 - 10 * t, 6);
  });

  it("rejects a degenerate quadrilateral", () => {
    const line = [0, 1, 2, 3].map((i) => ({ x: i, y: i }));
    expect(() => perspectiveTransform(line, line)).toThrow(/degenerate/);
  });
});
