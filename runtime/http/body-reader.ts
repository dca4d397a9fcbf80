/**
 * Reads a request body whole, with a size limit: past `maxBytes` (by the bytes seen so far, whatever the
 * Content-Length said) the exchange is answered 413 and the connection closed. `done` runs once with the
 * body unless the exchange ended first (client gone, timeout, 413).
 *
 * Chunks are copied, since a backend's chunk is valid only during its callback. When the body arrives in
 * one chunk and the consumer finishes with it before returning (`retain: false`: JSON and text decoders),
 * that chunk is passed as is, without a copy.
 */
import { PayloadTooLarge } from "../errors/http-errors.ts";
import type { Exchange } from "./exchange.ts";

export function readBody(ex: Exchange, maxBytes: number, retain: boolean, done: (body: Buffer) => void): void {
  let chunks: Buffer[] | undefined;
  let received = 0;
  ex.res.onData((chunk, isLast) => {
    if (ex.done) return;
    try {
      received += chunk.byteLength;
      if (received > maxBytes) return ex.fail(new PayloadTooLarge(maxBytes), true);
      if (!isLast) {
        chunks ??= [];
        chunks.push(Buffer.from(chunk)); // a copy
        return;
      }
      ex.bytesIn = received;
      ex.bodyReceived = true;
      let body: Buffer;
      if (chunks) {
        if (chunk.byteLength > 0) chunks.push(Buffer.from(chunk));
        body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
        chunks = undefined;
      } else {
        body = retain ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      done(body);
    } catch (err) {
      ex.fail(err);
    }
  });
}

/** For requests whose body is not used (GET): read and drop it, then call `done`. */
export function skipBody(ex: Exchange, maxBytes: number, done: () => void): void {
  let received = 0;
  ex.res.onData((chunk, isLast) => {
    if (ex.done) return;
    received += chunk.byteLength;
    if (received > maxBytes) return ex.fail(new PayloadTooLarge(maxBytes), true);
    if (!isLast) return;
    ex.bytesIn = received;
    ex.bodyReceived = true;
    try {
      done();
    } catch (err) {
      ex.fail(err);
    }
  });
}
