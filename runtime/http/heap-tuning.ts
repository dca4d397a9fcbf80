/**
 * V8 tuning for a process that serves requests. V8's allocation-site pretenuring allocates objects straight
 * into the old generation when their allocation site's objects survived young-generation GCs often. A
 * server's start-up (model sessions, schema compilation, module loading) teaches it that about sites the
 * request path shares with Node's HTTP machinery, and from then on every request's objects (IncomingMessage,
 * ServerResponse, the exchange, its closures) were old-generation garbage: measured on the echo API with
 * node:http, ~3 KB promoted per request and 11–12 µs of GC pause per request, against ~0.1 KB and 2 µs with
 * pretenuring off (bench/server-overhead.ts; uWS: 2.2 → 0.7 µs). Request objects die young, so a serving
 * process turns it off. `BENTOC_V8_PRETENURING=1` keeps V8's default.
 */
import v8 from "node:v8";

let tuned = false;

export function tuneHeapForServing(): void {
  if (tuned || process.env["BENTOC_V8_PRETENURING"] === "1") return;
  tuned = true;
  v8.setFlagsFromString("--no-allocation-site-pretenuring");
}
