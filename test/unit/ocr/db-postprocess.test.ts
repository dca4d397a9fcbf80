import { describe, expect, it } from "vitest";
import { boxScore, connectedRegions, DB_DEFAULTS, dbBoxes, type ProbMap, sortReadingOrder } from "../../../samples/ocr/db-postprocess.ts";
import type { Quad } from "../../../samples/ocr/geometry.ts";

function map(width: number, height: number): ProbMap {
  return { width, height, data: new Float32Array(width * height) };
}
function fill(m: ProbMap, x0: number, y0: number, x1: number, y1: number, p: number): void {
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m.data[y * m.width + x] = p;
}

describe("connectedRegions", () => {
  it("joins diagonal neighbours (8-connectivity) and keeps separate blobs apart", () => {
    const m = map(10, 10);
    m.data[0] = 0.9;
    m.data[11] = 0.9; // (1,1): diagonal to (0,0)
    fill(m, 5, 5, 7, 6, 0.9);
    const regions = connectedRegions(m, 0.3);
    expect(regions).toHaveLength(2);
    expect(regions[0]).toEqual([
      { x: 0, y: 0 },
      { x: 1, y: 1 },
    ]);
    // Row extremes only: (5,5), (7,5), (5,6), (7,6).
    expect(regions[1]).toHaveLength(4);
  });

  it("uses a strict threshold", () => {
    const m = map(4, 4);
    fill(m, 0, 0, 3, 3, 0.3);
    expect(connectedRegions(m, 0.3)).toHaveLength(0);
  });
});

describe("boxScore", () => {
  it("is the mean probability inside the box", () => {
    const m = map(10, 10);
    fill(m, 0, 0, 4, 9, 1);
    const quad = [
      { x: 0, y: 0 },
      { x: 9, y: 0 },
      { x: 9, y: 9 },
      { x: 0, y: 9 },
    ];
    expect(boxScore(m, quad)).toBeCloseTo(0.5, 9);
  });
});

describe("dbBoxes", () => {
  it("finds each text kernel, unclips it by area*1.5/perimeter and scales to image pixels", () => {
    const m = map(200, 100);
    fill(m, 20, 60, 120, 75, 0.95); // lower line
    fill(m, 30, 10, 150, 25, 0.95); // upper line
    const boxes = dbBoxes(m, { width: 400, height: 200 }, { ...DB_DEFAULTS, unclipRatio: 1.5 });
    expect(boxes).toHaveLength(2);
    // Kernel measured between pixel centres: 120 x 15, so d = 120*15*1.5/270 = 10.
    const [upper, lower] = boxes as [Quad, Quad];
    expect(upper).toEqual([
      { x: 40, y: 0 },
      { x: 320, y: 0 },
      { x: 320, y: 70 },
      { x: 40, y: 70 },
    ]);
    // Lower kernel 100 x 15: d = 100*15*1.5/230 ≈ 9.78, so x 10.22..129.78 → 20..260 at 2x.
    expect(lower[0]).toEqual({ x: 20, y: 100 });
    expect(lower[2]).toEqual({ x: 260, y: 170 });
  });

  // The default was 2.0; it is PaddleOCR's det_db_unclip_ratio 1.5 now (the crop's margins moved to
  // cropLine, so the API's boxes are the reference's).
  it("unclips by PaddleOCR's default ratio 1.5 unless told otherwise", () => {
    const m = map(200, 100);
    fill(m, 30, 10, 150, 25, 0.95); // 120 x 15 between centres: d = 120*15*1.5/270 = 10
    const [box] = dbBoxes(m, { width: 200, height: 100 });
    expect(box).toEqual([
      { x: 20, y: 0 },
      { x: 160, y: 0 },
      { x: 160, y: 35 },
      { x: 20, y: 35 },
    ]);
  });

  it("clips boxes to the last pixel row and column, as PaddleOCR's filter_tag_det_res", () => {
    const m = map(100, 50);
    fill(m, 70, 30, 98, 48, 0.95); // grows past the right and bottom edges
    const [box] = dbBoxes(m, { width: 100, height: 50 });
    expect(Math.max(...box!.map((p) => p.x))).toBe(99);
    expect(Math.max(...box!.map((p) => p.y))).toBe(49);
  });

  it("drops weak regions (mean below 0.6) and specks thinner than 3 pixels", () => {
    const m = map(100, 100);
    fill(m, 10, 10, 80, 30, 0.5); // above thresh 0.3 but a weak box
    fill(m, 10, 60, 80, 61, 0.99); // strong but 1 pixel tall between centres
    expect(dbBoxes(m, { width: 100, height: 100 })).toEqual([]);
  });

  it("returns nothing for an empty map", () => {
    expect(dbBoxes(map(64, 32), { width: 640, height: 320 })).toEqual([]);
  });
});

describe("sortReadingOrder", () => {
  const box = (x: number, y: number): Quad => [
    { x, y },
    { x: x + 10, y },
    { x: x + 10, y: y + 5 },
    { x, y: y + 5 },
  ];
  it("reads top to bottom, and left to right within a line even when tops differ slightly", () => {
    const right = box(100, 20);
    const left = box(0, 25);
    const below = box(0, 60);
    expect(sortReadingOrder([below, right, left])).toEqual([left, right, below]);
  });
});
