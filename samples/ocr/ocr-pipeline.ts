/**
 * PaddleOCR v4 pre- and post-processing in plain TypeScript: DB text detection, line cropping and
 * CTC text recognition, over sdk Models (ONNX sessions supplied by the runtime).
 */
import type { Image, Model, Tensor } from "bentoc";
import { ctcGreedyDecode } from "./ctc-decode.ts";
import { DB_DEFAULTS, type DbOptions, dbBoxes } from "./db-postprocess.ts";
import { applyHomography, perspectiveTransform, type Quad } from "./geometry.ts";
import { type PlanarBgr, resizeBilinear, sampleImageBgr, toPlanarBgr } from "./image-math.ts";
import type { LineCrop, Point, Recognised } from "./service.ts";

/**
 * Detection input: the longest side at most this many pixels, never enlarged — PaddleOCR's
 * `--det_limit_side_len 960` with `--det_limit_type max` (tools/infer/utility.py), applied by
 * `DetResizeForTest` (ppocr/data/imaug/operators.py), which also rounds both sides to multiples of 32.
 */
export const DET_LIMIT_SIDE = 960;
/**
 * `NormalizeImage` of tools/infer/predict_det.py: x / 255, minus the ImageNet mean, over the ImageNet std,
 * per channel in the order of the image PaddleOCR reads with OpenCV, B, G, R.
 */
const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;
/**
 * Recognition input: PP-OCRv4's `--rec_image_shape "3, 48, 320"` (tools/infer/predict_rec.py's
 * `resize_norm_img`): height 48, and a batch is at least 48 * 320/48 = 320 wide.
 */
export const REC_HEIGHT = 48;
export const REC_MIN_WIDTH = 320;
/** Crops wider than REC_MIN_WIDTH get a width that is a multiple of this, so equal widths are common. */
export const REC_WIDTH_STEP = 32;

/** How a line is cut out for the recogniser: margins around the detected box, and a horizontal scale. */
export interface CropOptions {
  /** Added before and after the line, as a fraction of the box's short side (its height for a line). */
  marginX: number;
  /** Added above and below the line, as a fraction of the box's short side. */
  marginY: number;
  /** The resized crop's width is `xScale * 48 * width / height`; 1 keeps the aspect. */
  xScale: number;
}

/** PaddleOCR's own crop: the detected box exactly (get_rotate_crop_image), aspect kept (resize_norm_img). */
export const PADDLE_CROP: CropOptions = { marginX: 0, marginY: 0, xScale: 1 };

/**
 * The crop this sample feeds the recogniser — a deliberate departure from PaddleOCR, measured. The
 * Chinese PP-OCRv4 recogniser drops spaces between Latin words when its crop hugs the line: with
 * PaddleOCR's own pre- and post-processing (re-run with OpenCV and pyclipper on the rendered corpus of
 * test/e2e/ocr-accuracy.test.ts) only 67.5 % of the lines come back exact (CER 3.8 %), nearly all for
 * lost spaces. PaddleOCR's maintainers call this a weakness of the general model and advise larger boxes
 * (PaddleOCR issue 8185: raise unclip_ratio or use dilation; PaddleX issue 3519). So the API's boxes stay
 * PaddleOCR's (unclip 1.5) and only the crop grows: by 0.6 × the line height before and after the line
 * and 0.3 × above and below, then 10 % narrower than its aspect. These values were chosen on a second
 * corpus (corpus seed 7, 96 images, not the test's) from a grid of margins 0–0.8 and scales 0.7–1.1; on
 * it they read 94.6 % of lines exactly (CER 0.2 %), against 63.8 % (3.2 %) for PaddleOCR's processing.
 */
export const REC_CROP: CropOptions = { marginX: 0.6, marginY: 0.3, xScale: 0.9 };

/**
 * The width a line crop is resized to. PP-OCRv4's recogniser mixes information across the whole line,
 * so padding a crop further than its own width can change what it reads ("Invoice" → "lnvoice").
 * Hence a crop is never padded beyond its canonical width: narrow crops are all padded to 320 (as
 * PaddleOCR does) and wider ones are stretched (at most 16 px, < 5 %) to a multiple of 32 and batched
 * only with crops of that same width. Batched results equal unbatched ones by construction.
 * (PaddleOCR instead pads every crop of a batch of 6 to the batch's widest; its results depend on the
 * batch-mates.)
 */
export function recognitionWidth(naturalWidth: number): number {
  const w = Math.max(1, Math.ceil(naturalWidth));
  return w <= REC_MIN_WIDTH ? w : Math.round(w / REC_WIDTH_STEP) * REC_WIDTH_STEP;
}

/** Side lengths for detection: aspect kept, longest side ≤ limit, both rounded to multiples of 32. */
export function detectionSize(width: number, height: number, limit = DET_LIMIT_SIDE): { width: number; height: number } {
  const ratio = Math.max(width, height) > limit ? limit / Math.max(width, height) : 1;
  return {
    width: Math.max(Math.round((width * ratio) / 32) * 32, 32),
    height: Math.max(Math.round((height * ratio) / 32) * 32, 32),
  };
}

function float32(t: Tensor | undefined, what: string): Float32Array {
  if (!t) throw new Error(`the model gave no ${what} output`);
  if (t.data instanceof Float32Array) return t.data;
  return Float32Array.from(t.data as ArrayLike<number>);
}

/** Finds text lines: each a box of 4 corners (top-left, top-right, bottom-right, bottom-left), in reading order. */
export async function detectBoxes(model: Model, image: Image, opts: DbOptions = DB_DEFAULTS): Promise<Quad[]> {
  if (image.width < 1 || image.height < 1) return [];
  const size = detectionSize(image.width, image.height);
  const resized = resizeBilinear(toPlanarBgr(image), size.width, size.height);
  const plane = size.width * size.height;
  const input = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = DET_MEAN[c]!;
    const std = DET_STD[c]!;
    for (let i = c * plane; i < (c + 1) * plane; i++) input[i] = (resized.data[i]! / 255 - mean) / std;
  }
  const inputName = model.inputNames[0] ?? "x";
  const outputName = model.outputNames[0];
  const out = await model.run(
    { [inputName]: { dtype: "float32", shape: [1, 3, size.height, size.width], data: input } },
    outputName ? [outputName] : undefined,
  );
  const prob = outputName ? out[outputName] : Object.values(out)[0];
  const data = float32(prob, "probability map");
  const [mh, mw] = prob!.shape.slice(-2) as [number, number];
  if (data.length !== mh * mw) throw new Error(`unexpected detection output shape [${prob!.shape.join(", ")}]`);
  return dbBoxes({ width: mw, height: mh, data }, image, opts);
}

/**
 * Cuts one text line out of the image for the recogniser. The box is first grown by `opts`' margins
 * along its own sides; then, as PaddleOCR's `get_rotate_crop_image` (tools/infer/utility.py): a
 * perspective crop `int(max(top, bottom))` by `int(max(left, right))` pixels (bilinear, edge pixels
 * repeated outside the image), turned upright when at least 1.5 times taller than wide; then, as
 * `resize_norm_img` (tools/infer/predict_rec.py): resized to height 48, width `ceil(48 * w / h)` (times
 * `opts.xScale`, per `recognitionWidth`), pixels CHW in B, G, R order as (x / 255 − 0.5) / 0.5, in [-1, 1].
 * `cropLine(image, box, PADDLE_CROP)` is PaddleOCR's crop exactly (but bilinear instead of bicubic).
 */
export function cropLine(image: Image, box: [Point, Point, Point, Point], opts: CropOptions = REC_CROP): LineCrop {
  const [p0, p1, p2, p3] = growBox(box, opts.marginX, opts.marginY);
  const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
  const w = Math.max(1, Math.floor(Math.max(dist(p0, p1), dist(p2, p3))));
  const h = Math.max(1, Math.floor(Math.max(dist(p0, p3), dist(p1, p2))));
  let crop: PlanarBgr;
  if (w === 1 || h === 1) {
    // Too thin for a perspective map: sample along the box's edges directly.
    crop = warp(image, w, h, (u, v) => ({
      x: p0.x + ((p1.x - p0.x) * u) / w + ((p3.x - p0.x) * v) / h,
      y: p0.y + ((p1.y - p0.y) * u) / w + ((p3.y - p0.y) * v) / h,
    }));
  } else {
    const m = perspectiveTransform(
      [
        { x: 0, y: 0 },
        { x: w, y: 0 },
        { x: w, y: h },
        { x: 0, y: h },
      ],
      [p0, p1, p2, p3],
    );
    crop = warp(image, w, h, (u, v) => applyHomography(m, u, v));
  }
  if (crop.height / crop.width >= 1.5) crop = rotate90(crop);
  const outW = recognitionWidth((opts.xScale * REC_HEIGHT * crop.width) / crop.height);
  const resized = resizeBilinear(crop, outW, REC_HEIGHT);
  const pixels = new Array<number>(resized.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (resized.data[i]! / 255 - 0.5) / 0.5;
  return { width: outW, height: REC_HEIGHT, pixels };
}

/**
 * The box (top-left, top-right, bottom-right, bottom-left) grown outwards along its own sides: by
 * `mx` times its short side at the two ends of its long side, and by `my` times it along the long side.
 * For a line that is `mx × height` before and after it and `my × height` above and below.
 */
export function growBox(box: Quad, mx: number, my: number): Quad {
  if (mx === 0 && my === 0) return box;
  const [p0, p1, p2, p3] = box;
  const len = (a: Point, b: Point) => Math.hypot(b.x - a.x, b.y - a.y);
  const unit = (a: Point, b: Point) => {
    const l = len(a, b);
    return l > 0 ? { x: (b.x - a.x) / l, y: (b.y - a.y) / l } : { x: 0, y: 0 };
  };
  const across = Math.max(len(p0, p1), len(p3, p2));
  const down = Math.max(len(p0, p3), len(p1, p2));
  const short = Math.min(across, down);
  // Grow the long side by mx and the short side by my, whichever way the box lies.
  const [gx, gy] = across >= down ? [mx * short, my * short] : [my * short, mx * short];
  const u = unit(p0, p1);
  const v = unit(p0, p3);
  const at = (p: Point, su: number, sv: number): Point => ({
    x: p.x + su * gx * u.x + sv * gy * v.x,
    y: p.y + su * gx * u.y + sv * gy * v.y,
  });
  return [at(p0, -1, -1), at(p1, 1, -1), at(p2, 1, 1), at(p3, -1, 1)];
}

function warp(image: Image, w: number, h: number, map: (u: number, v: number) => Point): PlanarBgr {
  const data = new Float32Array(3 * w * h);
  const px = new Float32Array(3);
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const s = map(u, v);
      sampleImageBgr(image, s.x, s.y, px);
      const i = v * w + u;
      data[i] = px[0]!;
      data[w * h + i] = px[1]!;
      data[2 * w * h + i] = px[2]!;
    }
  }
  return { width: w, height: h, data };
}

/** Rotates 90° counter-clockwise (numpy's rot90), so vertical lines read left to right. */
function rotate90(img: PlanarBgr): PlanarBgr {
  const { width: w, height: h } = img;
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < w; i++) {
      for (let j = 0; j < h; j++) {
        // new[i][j] = old[j][w - 1 - i]; the new image is h wide and w tall.
        data[c * w * h + i * h + j] = img.data[c * w * h + j * w + (w - 1 - i)]!;
      }
    }
  }
  return { width: h, height: w, data };
}

/**
 * Reads a batch of line crops. Crops are run in groups of equal padded width (max(320, width)), padded on
 * the right with 0 (after normalisation, PaddleOCR's padding), as [n, 3, 48, W]; each row is CTC-decoded.
 * A crop's input tensor row is thus the same whatever its batch-mates are.
 */
export async function recognizeCrops(model: Model, crops: LineCrop[], dictionary: readonly string[]): Promise<Recognised[]> {
  crops.forEach((c, i) => {
    if (c.height !== REC_HEIGHT) throw new Error(`crop ${i}: height ${c.height}, expected ${REC_HEIGHT}`);
    if (!Number.isInteger(c.width) || c.width < 1) throw new Error(`crop ${i}: invalid width ${c.width}`);
    if (c.pixels.length !== 3 * c.height * c.width) {
      throw new Error(`crop ${i}: ${c.pixels.length} pixels, expected 3 x ${c.height} x ${c.width}`);
    }
  });
  const groups = new Map<number, number[]>();
  crops.forEach((c, i) => {
    const w = Math.max(REC_MIN_WIDTH, c.width);
    groups.set(w, [...(groups.get(w) ?? []), i]);
  });
  const results = new Array<Recognised>(crops.length);
  for (const [width, members] of groups) {
    const decoded = await recognizeSameWidth(
      model,
      members.map((i) => crops[i]!),
      width,
      dictionary,
    );
    members.forEach((i, k) => {
      results[i] = decoded[k]!;
    });
  }
  return results;
}

async function recognizeSameWidth(model: Model, crops: LineCrop[], width: number, dictionary: readonly string[]): Promise<Recognised[]> {
  const n = crops.length;
  const input = new Float32Array(n * 3 * REC_HEIGHT * width);
  crops.forEach((c, k) => {
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < REC_HEIGHT; y++) {
        const src = (ch * REC_HEIGHT + y) * c.width;
        const dst = ((k * 3 + ch) * REC_HEIGHT + y) * width;
        for (let x = 0; x < c.width; x++) input[dst + x] = c.pixels[src + x]!;
      }
    }
  });
  const inputName = model.inputNames[0] ?? "x";
  const outputName = model.outputNames[0];
  const out = await model.run({ [inputName]: { dtype: "float32", shape: [n, 3, REC_HEIGHT, width], data: input } }, outputName ? [outputName] : undefined);
  const t = outputName ? out[outputName] : Object.values(out)[0];
  const probs = float32(t, "recognition");
  const [bn, steps, classes] = t!.shape as [number, number, number];
  if (bn !== n || probs.length !== n * steps * classes) {
    throw new Error(`unexpected recognition output shape [${t!.shape.join(", ")}] for ${n} crops`);
  }
  return crops.map((_, k) => ctcGreedyDecode(probs, k * steps * classes, steps, classes, dictionary));
}
