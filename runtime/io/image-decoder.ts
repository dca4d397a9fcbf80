/**
 * Decoding images off the event loop. A PNG or JPEG input is checked first, on the request's thread
 * (header read, pixel cap, pixels a file of its size can hold: image-codec.ts `checkImage`); a small one
 * (at most `INLINE_MAX_PIXELS`) is then decoded right there, a larger one in a worker thread of a small
 * pool, so that one big image never stalls the server's other requests (`/livez` included).
 *
 * Bounds: `workers` decodes at a time, at most `maxQueued` waiting (503 `overloaded` past it), and
 * `timeoutMs` per decode — a worker past it is terminated and replaced, and the request answered 413. The
 * pool starts its workers on first use (a service without image inputs never does) and never keeps the
 * process alive.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { isErrorCode } from "../../contract/error-catalogue.ts";
import type { Image } from "../../sdk/types.ts";
import { CatalogueError, PayloadTooLarge, ServiceUnavailable } from "../errors/http-errors.ts";
import { workerThreadScript } from "../worker-thread-script.ts";
import { checkImage, decodeImage, type ImageFormat } from "./image-codec.ts";
import type { DecodeAnswer, DecodeJob } from "./image-decode-worker.ts";

/** Images up to this many pixels (512 × 512) decode on the request's thread: a few milliseconds at most. */
export const INLINE_MAX_PIXELS = 512 * 512;

export interface ImageDecoderOptions {
  workers: number;
  maxQueued: number;
  timeoutMs: number;
}

export interface ImageDecoder {
  /** Checks, then decodes (inline or in a worker); rejects with the 400/413/503 to answer. */
  decode(bytes: Uint8Array, format: ImageFormat, maxPixels: number): Promise<Image>;
  close(): Promise<void>;
}

interface Pending {
  job: DecodeJob;
  format: ImageFormat;
  resolve(img: Image): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
}

export function createImageDecoder(options: ImageDecoderOptions): ImageDecoder {
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const worker = new Worker(...workerThreadScript(new URL("./image-decode-worker.ts", import.meta.url)));
    worker.unref();
    const slot: Slot = { worker, busy: undefined, timer: undefined };
    worker.on("message", (answer: DecodeAnswer) => {
      const p = slot.busy;
      if (!p || p.job.id !== answer.id) return;
      finish(slot);
      if (answer.ok) p.resolve({ width: answer.width, height: answer.height, channels: 4, data: answer.data, format: p.format });
      else p.reject(isErrorCode(answer.code) ? new CatalogueError(answer.code, answer.message, answer.detail) : new PayloadTooLarge(0, answer.message));
      pump();
    });
    const lost = (why: string): void => {
      const p = slot.busy;
      slots.splice(slots.indexOf(slot), 1);
      if (slot.timer) clearTimeout(slot.timer);
      p?.reject(new PayloadTooLarge(p.job.bytes.byteLength, `the image could not be decoded: ${why}`));
      pump();
    };
    worker.on("error", (err) => lost(err.message));
    worker.on("exit", (code) => {
      if (slots.includes(slot)) lost(`the decoder exited (${code})`);
    });
    slots.push(slot);
    return slot;
  };

  const finish = (slot: Slot): void => {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.busy = undefined;
  };

  const pump = (): void => {
    while (queue.length > 0 && !closed) {
      let slot = slots.find((s) => s.busy === undefined);
      if (!slot && slots.length < options.workers) slot = spawn();
      if (!slot) return;
      const p = queue.shift() as Pending;
      const s = slot;
      s.busy = p;
      s.timer = setTimeout(() => {
        // Too slow: this worker is spent; a fresh one takes the next job.
        slots.splice(slots.indexOf(s), 1);
        s.busy = undefined;
        void s.worker.terminate();
        p.reject(new PayloadTooLarge(p.job.bytes.byteLength, `the image took longer than ${options.timeoutMs} ms to decode`, { timeoutMs: options.timeoutMs }));
        pump();
      }, options.timeoutMs);
      s.timer.unref();
      s.worker.postMessage(p.job);
    }
  };

  return {
    decode(bytes, format, maxPixels) {
      let header: ReturnType<typeof checkImage>;
      try {
        header = checkImage(bytes, format, maxPixels);
      } catch (err) {
        return Promise.reject(err);
      }
      if (header.width * header.height <= INLINE_MAX_PIXELS) {
        try {
          return Promise.resolve(decodeImage(bytes, format, { maxPixels }));
        } catch (err) {
          return Promise.reject(err);
        }
      }
      if (closed) return Promise.reject(new ServiceUnavailable("the image decoder is shutting down", "shutting_down"));
      if (queue.length >= options.maxQueued) {
        return Promise.reject(new ServiceUnavailable(`more than ${options.maxQueued} images are waiting to be decoded`, "overloaded"));
      }
      return new Promise<Image>((resolve, reject) => {
        queue.push({ job: { id: nextId++, bytes, format, maxPixels }, format, resolve, reject });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const p of queue.splice(0)) p.reject(new ServiceUnavailable("the image decoder is shutting down", "shutting_down"));
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}

let shared: ImageDecoder | undefined;

/** The process's image decoder: one worker per spare core (at least one, at most two). */
export function sharedImageDecoder(timeoutMs: number): ImageDecoder {
  shared ??= createImageDecoder({ workers: Math.max(1, Math.min(2, availableParallelism() - 1)), maxQueued: 32, timeoutMs });
  return shared;
}
