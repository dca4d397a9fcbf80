/**
 * Runs in a worker thread of the image decoder pool (image-decoder.ts): decodes one checked PNG or JPEG
 * at a time, off the server's event loop, and sends the RGBA pixels back (transferred, not copied).
 */
import { parentPort } from "node:worker_threads";
import { isHttpError } from "../../sdk/errors.ts";
import { decodeImage, type ImageFormat } from "./image-codec.ts";

export interface DecodeJob {
  id: number;
  bytes: Uint8Array;
  format: ImageFormat;
  maxPixels: number;
}

export type DecodeAnswer =
  | { id: number; ok: true; width: number; height: number; data: Uint8Array }
  | { id: number; ok: false; status: number; code: string; message: string; detail: unknown };

const port = parentPort;
if (!port) throw new Error("image-decode-worker must run in a worker thread");

port.on("message", (job: DecodeJob) => {
  let answer: DecodeAnswer;
  try {
    const img = decodeImage(job.bytes, job.format, { maxPixels: job.maxPixels });
    answer = { id: job.id, ok: true, width: img.width, height: img.height, data: img.data };
  } catch (err) {
    answer = isHttpError(err)
      ? { id: job.id, ok: false, status: err.status, code: err.code, message: err.message, detail: err.detail }
      : {
          id: job.id,
          ok: false,
          status: 400,
          code: "malformed_body",
          message: "image could not be decoded",
          detail: [{ path: "", message: "could not be decoded" }],
        };
  }
  port.postMessage(answer, answer.ok ? [answer.data.buffer as ArrayBuffer] : []);
});
