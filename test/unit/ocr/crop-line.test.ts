import type { Image } from "bentoc";
import { describe, expect, it } from "vitest";
import type { Quad } from "../../../samples/ocr/geometry.ts";
import { cropLine, detectionSize, growBox, PADDLE_CROP, REC_CROP, REC_HEIGHT, recognitionWidth } from "../../../samples/ocr/ocr-pipeline.ts";

/** An RGB image: white, with a filled rectangle of the given colour. */
function canvas(width: number, height: number, rect: [number, number, number, number], rgb: [number, number, number]): Image {
  const data = new Uint8Array(width * height * 3).fill(255);
  const [x0, y0, x1, y1] = rect;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.set(rgb, (y * width + x) * 3);
  return { width, height, channels: 3, data, format: "raw" };
}
const quad = (x0: number, y0: number, x1: number, y1: number): Quad => [
  { x: x0, y: y0 },
  { x: x1, y: y0 },
  { x: x1, y: y1 },
  { x: x0, y: y1 },
];
/** Channel c of the crop at (x, y); channels are B, G, R. */
const at = (c: { width: number; height: number; pixels: number[] }, ch: number, x: number, y: number) => c.pixels[(ch * c.height + y) * c.width + x]!;

// The geometry tests below cut PaddleOCR's own crop (PADDLE_CROP: the box exactly, aspect kept); the
// sample's default adds margins and a horizontal scale (REC_CROP), tested on its own at the end.
describe("cropLine", () => {
  it("resizes to height 48 keeping the aspect, CHW in B, G, R order, normalised to [-1, 1]", () => {
    // A red bar inside a 200 x 40 box of a white page.
    const img = canvas(300, 100, [60, 40, 160, 60], [255, 0, 0]);
    const c = cropLine(img, quad(10, 30, 210, 70), PADDLE_CROP);
    expect(c.height).toBe(REC_HEIGHT);
    expect(c.width).toBe(Math.ceil((48 * 200) / 40));
    expect(c.pixels).toHaveLength(3 * 48 * c.width);
    expect(Math.min(...c.pixels)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...c.pixels)).toBeLessThanOrEqual(1);
    // Page corner: white → 1 in every channel.
    for (let ch = 0; ch < 3; ch++) expect(at(c, ch, 2, 2)).toBeCloseTo(1, 5);
    // Centre of the red bar (box x 110, y 50 → crop x 120, y 24): B = G = -1, R = 1.
    expect(at(c, 0, 120, 24)).toBeCloseTo(-1, 5);
    expect(at(c, 1, 120, 24)).toBeCloseTo(-1, 5);
    expect(at(c, 2, 120, 24)).toBeCloseTo(1, 5);
  });

  it("composites transparent pixels over white and reads grayscale images", () => {
    const rgba: Image = { width: 20, height: 10, channels: 4, data: new Uint8Array(20 * 10 * 4), format: "png" };
    const c = cropLine(rgba, quad(0, 0, 20, 10));
    expect(c.pixels.every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
    const gray: Image = { width: 20, height: 10, channels: 1, data: new Uint8Array(200), format: "png" };
    expect(cropLine(gray, quad(0, 0, 20, 10)).pixels.every((v) => Math.abs(v + 1) < 1e-6)).toBe(true);
  });

  it("turns a tall box upright so a vertical line becomes a wide crop", () => {
    const c = cropLine(canvas(50, 300, [0, 0, 1, 1], [0, 0, 0]), quad(10, 10, 30, 210), PADDLE_CROP);
    expect(c.height).toBe(48);
    expect(c.width).toBe(Math.ceil((48 * 200) / 20));
  });

  it("follows a rotated box: a tilted bar comes out level", () => {
    // A dark bar along a 10° slope, 200 x 20, on white.
    const width = 300;
    const height = 150;
    const data = new Uint8Array(width * height).fill(255);
    const a = (10 * Math.PI) / 180;
    const [ux, uy, vx, vy] = [Math.cos(a), Math.sin(a), -Math.sin(a), Math.cos(a)];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const s = (x - 50) * ux + (y - 40) * uy;
        const t = (x - 50) * vx + (y - 40) * vy;
        if (s >= 0 && s <= 200 && t >= 0 && t <= 20) data[y * width + x] = 0;
      }
    }
    const img: Image = { width, height, channels: 1, data, format: "raw" };
    const p = (s: number, t: number) => ({ x: 50 + s * ux + t * vx, y: 40 + s * uy + t * vy });
    const c = cropLine(img, [p(0, -10), p(200, -10), p(200, 30), p(0, 30)], PADDLE_CROP);
    // Rows through the bar's middle are dark end to end; rows in the margins are white end to end.
    const row = (y: number) => Array.from({ length: c.width - 8 }, (_, i) => at(c, 0, i + 4, y));
    expect(Math.max(...row(24))).toBeLessThan(-0.9);
    expect(Math.min(...row(3))).toBeGreaterThan(0.9);
    expect(Math.min(...row(44))).toBeGreaterThan(0.9);
  });
});

describe("detectionSize", () => {
  it("keeps small images, rounds sides to multiples of 32 and caps the longest side at 960", () => {
    expect(detectionSize(900, 120)).toEqual({ width: 896, height: 128 });
    expect(detectionSize(10, 10)).toEqual({ width: 32, height: 32 });
    expect(detectionSize(1920, 1080)).toEqual({ width: 960, height: 544 });
  });
});

describe("recognitionWidth", () => {
  it("keeps narrow widths and rounds wide ones to the nearest multiple of 32 (stretch under 5 %)", () => {
    expect(recognitionWidth(47.2)).toBe(48);
    expect(recognitionWidth(320)).toBe(320);
    expect(recognitionWidth(335)).toBe(320);
    expect(recognitionWidth(337)).toBe(352);
    expect(recognitionWidth(795)).toBe(800);
    for (let w = 321; w < 2000; w++) expect(Math.abs(recognitionWidth(w) - w) / w).toBeLessThan(0.05);
  });

  it("is the width cropLine produces", () => {
    const img: Image = { width: 900, height: 60, channels: 1, data: new Uint8Array(900 * 60).fill(255), format: "raw" };
    const c = cropLine(img, quad(0, 10, 795, 58), PADDLE_CROP); // natural width 48 * 795 / 48 = 795
    expect(c.width).toBe(800);
    expect(c.pixels).toHaveLength(3 * 48 * 800);
  });
});

describe("the recogniser's crop (REC_CROP)", () => {
  it("grows a line's box by marginX x height at its ends and marginY x height above and below", () => {
    expect(growBox(quad(100, 50, 300, 70), 0.6, 0.3)).toEqual(quad(88, 44, 312, 76));
    // A vertical line grows the same way along its own length.
    const g = growBox(quad(50, 100, 70, 300), 0.6, 0.3);
    expect(g.map((p) => [Math.round(p.x), Math.round(p.y)])).toEqual([
      [44, 88],
      [76, 88],
      [76, 312],
      [44, 312],
    ]);
    expect(growBox(quad(1, 2, 3, 4), 0, 0)).toEqual(quad(1, 2, 3, 4));
  });

  it("is the default: the grown box, 10 % narrower than its aspect, the ink in the middle", () => {
    expect(REC_CROP).toEqual({ marginX: 0.6, marginY: 0.3, xScale: 0.9 });
    // A black bar exactly filling a 200 x 40 box.
    const img = canvas(400, 200, [100, 80, 300, 120], [0, 0, 0]);
    const c = cropLine(img, quad(100, 80, 300, 120));
    // Grown to 248 x 64 (24 px each end, 12 px above and below), scaled to height 48: 186 x 48, then 0.9x.
    expect(c.width).toBe(Math.ceil((0.9 * 48 * 248) / 64));
    const rowMid = Array.from({ length: c.width }, (_, x) => at(c, 0, x, 24));
    const dark = rowMid.map((v, x) => (v < 0 ? x : -1)).filter((x) => x >= 0);
    // The bar covers 200/248 of the width, centred.
    expect(dark.length / c.width).toBeCloseTo(200 / 248, 1);
    expect(Math.abs(dark[0]! - (c.width - 1 - dark[dark.length - 1]!))).toBeLessThanOrEqual(1);
    // Above and below the bar: white (12 of 64 rows each side, 9 of 48 after resizing).
    expect(at(c, 0, Math.floor(c.width / 2), 3)).toBeCloseTo(1, 5);
    expect(at(c, 0, Math.floor(c.width / 2), 44)).toBeCloseTo(1, 5);
    expect(at(c, 0, Math.floor(c.width / 2), 24)).toBeCloseTo(-1, 5);
  });
});
