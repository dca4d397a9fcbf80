import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { api, batchable, depends, type Image, io, type Model, runner, service } from "bentoc";

/** One line of text found in the image. */
export interface TextBox {
  text: string;
  /**
   * Recognition confidence.
   * @minimum 0
   * @maximum 1
   */
  confidence: number;
  /** Corners of the box in image pixels: top-left, top-right, bottom-right, bottom-left. */
  box: [Point, Point, Point, Point];
}

export interface Point {
  x: number;
  y: number;
}

export interface OcrResult {
  width: number;
  height: number;
  lines: TextBox[];
}

/** A grayscale or colour crop of one text line, resized to height 48 by the service. */
export interface LineCrop {
  width: number;
  height: number;
  /** CHW float32 pixels normalised to [-1, 1]. */
  pixels: number[];
}

export interface Recognised {
  text: string;
  confidence: number;
}

/** PaddleOCR v4 text detection (DB). One image per call; not batched (images differ in size). */
@runner({ name: "text-detector", model: "ppocr-det:latest", resources: { cpu: "1", memory: "512Mi" } })
export class TextDetector {
  model!: Model;

  @batchable({ batchDim: 0, maxBatchSize: 1, maxLatencyMs: 0 })
  async detect(images: Image[]): Promise<Array<Array<[Point, Point, Point, Point]>>> {
    const { detectBoxes } = await import("./ocr-pipeline.ts");
    return Promise.all(images.map((img) => detectBoxes(this.model, img)));
  }
}

/** PaddleOCR v4 text recognition (CTC). Line crops are batched; crops of equal padded width run together. */
@runner({ name: "text-recognizer", model: "ppocr-rec:latest", resources: { cpu: "1", memory: "512Mi" } })
export class TextRecognizer {
  model!: Model;
  /** Class i of the model is dictionary[i - 1] (class 0 is the CTC blank). */
  dictionary: string[] = [];

  /** Loads the character dictionary stored next to the model. */
  async setup(): Promise<void> {
    const { parseDictionary } = await import("./ctc-decode.ts");
    this.dictionary = parseDictionary(await readFile(join(this.model.path, "ppocr_keys_v1.txt"), "utf8"));
  }

  @batchable({ batchDim: 0, maxBatchSize: 16, maxLatencyMs: 5, groupByLength: true })
  async recognize(crops: LineCrop[]): Promise<Recognised[]> {
    const { recognizeCrops } = await import("./ocr-pipeline.ts");
    return recognizeCrops(this.model, crops, this.dictionary);
  }
}

/** Reads printed text from PNG or JPEG images with PaddleOCR v4. */
@service({ name: "ocr", version: "1.0.0", traffic: { timeoutMs: 30000, maxConcurrency: 64 } })
export class Ocr {
  readonly detector = depends(TextDetector);
  readonly recognizer = depends(TextRecognizer);

  /** Find and read the text lines of an image. */
  @api({ route: "/read", input: io.image({ formats: ["png", "jpeg"] }) })
  async read(image: Image): Promise<OcrResult> {
    const { cropLine } = await import("./ocr-pipeline.ts");
    const [boxes] = await this.detector.detect([image]);
    const found = boxes ?? [];
    const crops = found.map((box) => cropLine(image, box));
    const texts = crops.length ? await this.recognizer.recognize(crops) : [];
    return {
      width: image.width,
      height: image.height,
      lines: found.map((box, i) => ({ box, text: texts[i]?.text ?? "", confidence: texts[i]?.confidence ?? 0 })),
    };
  }
}
