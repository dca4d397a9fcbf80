/**
 * The one small interface between bentoc's HTTP handling and an HTTP server library. Two backends
 * implement it: uWebSockets.js (uws-transport.ts, the fast path) and node:http (node-transport.ts, runs
 * everywhere). Everything above it — exchange, routing, body limits, timeouts, errors, access log, CORS —
 * is written once (http-server.ts) and shared by the API server and the runner server.
 *
 * The interface follows the stricter of the two libraries, uWS:
 * - a `TransportRequest` is valid only during the synchronous call of the request handler: read the
 *   headers you need right there;
 * - `onAborted` and `onData` must be registered during that call too; a body chunk is valid only during
 *   its callback (copy it to keep it);
 * - after `onAborted` fired, the response must not be touched (the backends make late writes no-ops).
 */

export type OutgoingBody = string | Uint8Array;

/** Response headers as a flat list: name, value, name, value, … (names lower-case). */
export type HeaderList = string[];

export interface TransportRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The path as sent (not decoded), without the query. */
  readonly path: string;
  /** The query string without `?` ("" when none). */
  readonly query: string;
  /** The Content-Length header as sent ("" when absent); read once, checked by the backend. */
  readonly contentLength: string;
  /** A header by lower-case name; "" when absent. */
  header(name: string): string;
  forEachHeader(fn: (name: string, value: string) => void): void;
}

export interface TransportResponse {
  /** The client went away before the response was complete. Fires at most once. */
  onAborted(handler: () => void): void;
  /** Body chunks in order; `isLast` on the final one (which may be empty). Register at most once. */
  onData(handler: (chunk: Uint8Array, isLast: boolean) => void): void;
  /**
   * Whether a chunk given to `onData` stays valid after the callback returns and is not written to again
   * (node:http's Buffers), so a reader may keep it without a copy; uWS reuses the chunk's memory.
   */
  readonly chunksOwned: boolean;
  /** Writes a whole response; `close` ends the connection after it, `head` sends the headers only. */
  end(status: number, headers: HeaderList, body: OutgoingBody, close: boolean, head: boolean): void;
  /** Starts a streamed response (no Content-Length). */
  writeHead(status: number, headers: HeaderList): void;
  /** Writes a chunk of a streamed response; false when the backend is buffering (wait for `onWritable`). */
  write(chunk: OutgoingBody): boolean;
  /** Called once when buffered output has drained after `write` returned false. */
  onWritable(handler: () => void): void;
  /** Ends a streamed response. */
  endStream(close: boolean): void;
}

export type RequestHandler = (req: TransportRequest, res: TransportResponse) => void;

/**
 * What the backend could not hand to the request handler because the request itself is broken (bad
 * request line or header, headers over the limit, conflicting Content-Length, headers never finished).
 * The server answers it with the catalogue's code and closes the connection.
 */
export type ProtocolErrorCode = "bad_request" | "headers_too_large" | "request_timeout";

export interface ProtocolError {
  code: ProtocolErrorCode;
  /** What was wrong, for the error body and the log. */
  message: string;
}

/** Writes the response to a broken request (status line, headers, body) and closes the connection. */
export type ProtocolErrorHandler = (error: ProtocolError) => { status: number; headers: HeaderList; body: string };

/**
 * Where to listen. `exclusive`: refuse a port another process holds. API workers listen with `false`:
 * uWS then binds with SO_REUSEPORT beside its siblings, and node:http shares the cluster primary's socket.
 */
export interface ListenTarget {
  host: string;
  port: number;
  exclusive: boolean;
}

export interface TransportLimits {
  /** Largest request head (request line + headers) in bytes; 431 past it where the backend can tell. */
  maxHeaderBytes: number;
  /** Time for the request head to arrive before the connection is answered 408 and closed. */
  headersTimeoutMs: number;
}

/** A bound server socket. */
export interface HttpTransport {
  readonly backend: "uws" | "node";
  /** Resolves with the bound port; rejects with `PortInUseError` when the port is taken. */
  listen(target: ListenTarget, handler: RequestHandler, onProtocolError: ProtocolErrorHandler): Promise<number>;
  /**
   * Stops accepting connections. Open ones stay: a request still arriving on one is served, and while
   * the server drains every response closes its connection, so clients move to another replica.
   */
  stopListening(): void;
  /** Closes every connection at once. */
  closeAll(): void;
}

/** The port is held by another process. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is already in use (another server is listening there); stop it or choose another port with --port`);
  }
}
