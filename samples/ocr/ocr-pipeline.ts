/** PaddleOCR pre- and post-processing (filled in with the runners issue). */
import type { Image, Model } from "bentoc";
import type { LineCrop, Point, Recognised } from "./service.ts";

export async function detectBoxes(_model: Model, _image: Image): Promise<Array<[Point, Point, Point, Point]>> {
  throw new Error("not implemented yet");
}
export async function recognizeCrops(_model: Model, _crops: LineCrop[]): Promise<Recognised[]> {
  throw new Error("not implemented yet");
}
export function cropLine(_image: Image, _box: [Point, Point, Point, Point]): LineCrop {
  throw new Error("not implemented yet");
}
