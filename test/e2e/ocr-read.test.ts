/**
 * The OCR sample end to end over the real PaddleOCR v4 models: text rendered with ImageMagick and a
 * Debian font is read back by the service's own `read` API, runners wired as the runtime wires them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cropLine } from "../../samples/ocr/ocr-pipeline.ts";
import { type LineCrop, Ocr, type OcrResult, type Recognised } from "../../samples/ocr/service.ts";
import { loadRunners, type OcrRunners } from "../fixtures/ocr/ppocr-models.ts";
import { canRender, renderImage, type TextLine } from "../fixtures/ocr/render-text.ts";

const CI = !!process.env.CI && process.env.CI !== "false";
// Without ImageMagick the test cannot render its input: skip on a laptop, fail in CI (never skip there).
const runnable = CI || canRender();

const norm = (s: string) => s.replace(/\s+/g, " ").trim();

describe.skipIf(!runnable)("ocr sample reads rendered text (PaddleOCR v4)", () => {
  let ocr: Ocr;
  let runners: OcrRunners | undefined;

  beforeAll(async () => {
    if (!canRender()) throw new Error("ImageMagick's `convert` is required to render the OCR test images");
    runners = await loadRunners();
    ocr = new Ocr();
    // The runtime replaces each depends() marker with a handle on the runner; do the same, in process.
    Object.assign(ocr, { detector: runners.detector, recognizer: runners.recognizer });
  });
  afterAll(() => runners?.close());

  const read = (width: number, height: number, lines: TextLine[]): Promise<OcrResult> => ocr.read(renderImage(width, height, lines));

  it("reads back a rendered line exactly", async () => {
    const text = "Invoice 2024 total 42.50";
    const res = await read(900, 120, [{ text, x: 20, y: 80 }]);
    expect(res.width).toBe(900);
    expect(res.height).toBe(120);
    expect(res.lines.map((l) => norm(l.text))).toEqual([text]);
    const [line] = res.lines;
    expect(line!.confidence).toBeGreaterThan(0.8);
    expect(line!.confidence).toBeLessThanOrEqual(1);
    // The box is where the ink is: the text is drawn from x=20 (its ink starts at x=24) with its baseline at
    // y=80, cap height ~35 px.
    const [tl, tr, br, bl] = line!.box;
    expect(tl.x).toBeLessThanOrEqual(24);
    expect(bl.x).toBeLessThanOrEqual(24);
    expect(tl.y).toBeLessThanOrEqual(46);
    expect(br.y).toBeGreaterThanOrEqual(80);
    expect(tr.x).toBeGreaterThan(560);
    expect(tr.x).toBeLessThan(660);
  });

  it.each([
    ["ID: A7-99x, qty=3 (ok)", 36],
    ["Hello, World!", 30],
    ["The quick brown fox jumps over the lazy dog", 40],
  ])("reads %j at %ipt", async (text, pointsize) => {
    const res = await read(1000, 100, [{ text, x: 15, y: 60, pointsize }]);
    expect(res.lines.map((l) => norm(l.text))).toEqual([text]);
  });

  it("reads two lines top to bottom", async () => {
    const res = await read(900, 230, [
      { text: "Second line: 7 apples", x: 40, y: 170 },
      { text: "First line here", x: 20, y: 70 },
    ]);
    expect(res.lines.map((l) => norm(l.text))).toEqual(["First line here", "Second line: 7 apples"]);
    expect(res.lines[0]!.box[3].y).toBeLessThanOrEqual(res.lines[1]!.box[0].y);
  });

  it("reads two lines side by side left to right", async () => {
    const res = await read(1000, 120, [
      { text: "Total", x: 600, y: 80 },
      { text: "Net 17", x: 20, y: 82 },
    ]);
    expect(res.lines.map((l) => norm(l.text))).toEqual(["Net 17", "Total"]);
  });

  it("finds no lines in a blank image", async () => {
    const res = await read(640, 200, []);
    expect(res).toEqual({ width: 640, height: 200, lines: [] });
  });

  it("recognises a crop the same alone and in a batch with wider and narrower crops", async () => {
    const crops = async (text: string, width: number, pointsize: number): Promise<LineCrop> => {
      const img = renderImage(width, 100, [{ text, x: 15, y: 65, pointsize }]);
      const [boxes] = await runners!.detector.detect([img]);
      expect(boxes).toHaveLength(1);
      return cropLine(img, boxes![0]!);
    };
    const short = await crops("Total", 300, 40);
    const mid = await crops("Invoice 2024 total 42.50", 900, 44);
    const wide = await crops("The quick brown fox jumps over the lazy dog", 1300, 44);
    expect(short.width).toBeLessThan(320);
    expect(wide.width).toBeGreaterThan(mid.width);
    const alone: Recognised[] = [];
    for (const c of [short, mid, wide]) alone.push((await runners!.recognizer.recognize([c]))[0]!);
    expect(alone.map((r) => r.text)).toEqual(["Total", "Invoice 2024 total 42.50", "The quick brown fox jumps over the lazy dog"]);
    const batched = await runners!.recognizer.recognize([wide, short, mid, short, wide]);
    expect(batched.map((r) => r.text)).toEqual([alone[2]!.text, alone[0]!.text, alone[1]!.text, alone[0]!.text, alone[2]!.text]);
    const order = [2, 0, 1, 0, 2];
    batched.forEach((r, i) => {
      expect(Math.abs(r.confidence - alone[order[i]!]!.confidence)).toBeLessThan(1e-4);
    });
  });
});
