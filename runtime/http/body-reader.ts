/**
 * Reads a request body whole, with a size limit: past `maxBytes` (by the bytes seen so far, whatever the
 * Content-Length said) the exchange is answered 413 and the connection closed. `done` runs once with the
 * body unless the exchange ended first (client gone, timeout, 413).
 *
 * A chunk is kept as is when the backend owns it no more (`chunksOwned`: node:http); otherwise it is
 * copied, since the backend's chunk is valid only during its callback. When the body arrives in one chunk
 * and the consumer finishes with it before returning (`retain: false`: JSON and text decoders), that chunk
 * is passed as is, without a copy.
 */
import { PayloadTooLarge } from "../errors/http-errors.ts";
import type { Exchange } from "./exchange.ts";

export function readBody(ex: Exchange, maxBytes: number, retain: boolean, done: (body: Buffer) => void): void {
  let chunks: Buffer[] | undefined;
  let received = 0;
  const keep = ex.res.chunksOwned ? asBuffer : copyOf;
  ex.res.onData((chunk, isLast) => {
    if (ex.done) return;
    try {
      received += chunk.byteLength;
      if (received > maxBytes) return ex.fail(new PayloadTooLarge(maxBytes), true);
      if (!isLast) {
        chunks ??= [];
        chunks.push(keep(chunk));
        return;
      }
      ex.bytesIn = received;
      ex.bodyReceived = true;
      let body: Buffer;
      if (chunks) {
        if (chunk.byteLength > 0) chunks.push(keep(chunk));
        body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
        chunks = undefined;
      } else {
        body = retain ? keep(chunk) : asBuffer(chunk);
      }
      done(body);
    } catch (err) {
      ex.fail(err);
    }
  });
}

/** The chunk's bytes as a Buffer, without a copy. */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function copyOf(chunk: Uint8Array): Buffer {
  return Buffer.from(chunk);
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
