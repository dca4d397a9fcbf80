/**
 * Request ids for requests that bring none (`x-request-id`): a random 64-bit prefix per process and a
 * counter, `3f9c2a7e5b1d4c80-1a`. Unique across processes and replicas (the prefix) and cheap (no
 * randomness per request, unlike a UUID: a measurable share of a trivial request's time).
 */
import { randomBytes } from "node:crypto";

const prefix = randomBytes(8).toString("hex");
let counter = 0;

export function newRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}
