/**
 * The uWebSockets.js backend: the fast path where a native build loads (see select-backend.ts).
 * uWS rules kept here and only here: a request is read inside its callback; nothing touches a response
 * after `onAborted`; a body chunk is a view on uWS's memory, valid during its callback; writes are corked;
 * no exception ever crosses into uWS.
 *
 * What uWS 20.30's own parser does with broken requests cannot be changed from JavaScript: an HTTP/1.0
 * request, a malformed header line or too many headers get no answer and the connection is closed after
 * uWS's idle timeout (~10 s); a head over ~4 KiB resets the connection. What reaches JavaScript is
 * checked here: a duplicate or non-numeric Content-Length is a 400 (uWS would frame the body by the
 * first one and read the rest as the next request). docs/http.md lists the differences from node:http.
 */
import type { HttpRequest, HttpResponse, RecognizedString, TemplatedApp, us_listen_socket } from "uWebSockets.js";
import type { UwsModule } from "./select-backend.ts";
import { statusLine } from "./status-line.ts";
import {
  type HeaderList,
  type HttpTransport,
  type ListenTarget,
  type OutgoingBody,
  PortInUseError,
  type ProtocolErrorHandler,
  type RequestHandler,
  type TransportRequest,
  type TransportResponse,
} from "./transport.ts";

// uWS 20.30 has these; its bundled declarations lack the host + options overload of listen and close().
declare module "uWebSockets.js" {
  interface TemplatedApp {
    listen(host: RecognizedString, port: number, options: number, cb: (listenSocket: us_listen_socket | false) => void): TemplatedApp;
    close(): TemplatedApp;
  }
}

const LISTEN_EXCLUSIVE = 1;
const LISTEN_SHARED = 0;
const DIGITS = /^\d{1,15}$/;

/** uWS gives methods in lower case: the usual ones without a string allocation each time. */
const METHODS: Readonly<Record<string, string>> = { get: "GET", post: "POST", head: "HEAD", options: "OPTIONS", put: "PUT", delete: "DELETE", patch: "PATCH" };

class UwsRequest implements TransportRequest {
  readonly method: string;
  readonly path: string;
  constructor(
    private readonly req: HttpRequest,
    readonly contentLength: string,
  ) {
    this.method = METHODS[req.getMethod()] ?? req.getCaseSensitiveMethod().toUpperCase();
    this.path = req.getUrl();
  }
  /** Read only when a route asks (GET APIs): valid, like every getter here, during the request's callback. */
  get query(): string {
    return this.req.getQuery() ?? "";
  }
  header(name: string): string {
    return this.req.getHeader(name);
  }
  forEachHeader(fn: (name: string, value: string) => void): void {
    this.req.forEach(fn);
  }
}

class UwsResponse implements TransportResponse {
  aborted = false;
  readonly chunksOwned = false;
  constructor(private readonly res: HttpResponse) {}

  onAborted(handler: () => void): void {
    this.res.onAborted(() => {
      this.aborted = true;
      handler();
    });
  }

  onData(handler: (chunk: Uint8Array, isLast: boolean) => void): void {
    this.res.onData((ab, isLast) => handler(new Uint8Array(ab), isLast));
  }

  end(status: number, headers: HeaderList, body: OutgoingBody, close: boolean, head: boolean): void {
    if (this.aborted) return;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      for (let i = 0; i < headers.length; i += 2) res.writeHeader(headers[i] as string, headers[i + 1] as string);
      if (head) {
        // uWS 20.30's endWithoutBody(length) leaves the response unfinished (it waits for that many body
        // bytes, and the connection dies): state the length as a header and end without one. (Without a
        // length it cannot be told to close; a HEAD while draining keeps its connection until the exit.)
        res.writeHeader("content-length", String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength));
        res.endWithoutBody();
      } else res.end(body, close);
    });
  }

  writeHead(status: number, headers: HeaderList): void {
    if (this.aborted) return;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      for (let i = 0; i < headers.length; i += 2) res.writeHeader(headers[i] as string, headers[i + 1] as string);
    });
  }

  write(chunk: OutgoingBody): boolean {
    if (this.aborted) return true;
    let ok = true;
    this.res.cork(() => (ok = this.res.write(chunk)));
    return ok;
  }

  onWritable(handler: () => void): void {
    this.res.onWritable(() => {
      // Later, outside uWS's callback: uWS puts back the handler it is running when the callback returns
      // (callOnWritable), so an onWritable registered from inside it (a write that hit backpressure again
      // in a microtask) would be overwritten and the stream would never resume.
      if (!this.aborted) setImmediate(() => !this.aborted && handler());
      return true;
    });
  }

  endStream(close: boolean): void {
    if (this.aborted) return;
    // uWS 20.30's end(…, closeConnection = true) writes a `Connection: close` header line even when the head
    // is long gone, into the chunked body, which breaks it. A stream's head says `connection: close` itself
    // when the server was draining as it started; otherwise the connection stays open until the server
    // closes it.
    void close;
    this.res.cork(() => this.res.end());
  }
}

// One callback for every request (no closure per call) counting Content-Length headers.
let contentLengths = 0;
const countContentLength = (name: string): void => {
  if (name === "content-length") contentLengths++;
};

/** A Content-Length uWS would accept but HTTP forbids: repeated, or not a plain number. */
function badContentLength(req: HttpRequest, first: string): string | undefined {
  if (!DIGITS.test(first)) return `Content-Length ${JSON.stringify(first.slice(0, 40))} is not a number`;
  contentLengths = 0;
  req.forEach(countContentLength);
  return contentLengths > 1 ? "Content-Length is given more than once" : undefined;
}

export function createUwsTransport(uws: UwsModule): HttpTransport {
  const app: TemplatedApp = uws.App();
  let listenSocket: us_listen_socket | false = false;

  return {
    backend: "uws",
    listen(target: ListenTarget, handler: RequestHandler, onProtocolError: ProtocolErrorHandler): Promise<number> {
      app.any("/*", (res, req) => {
        try {
          const contentLength = req.getHeader("content-length");
          const problem = contentLength === "" ? undefined : badContentLength(req, contentLength);
          if (problem !== undefined) {
            const answer = onProtocolError({ code: "bad_request", message: problem });
            res.cork(() => {
              res.writeStatus(statusLine(answer.status));
              for (let i = 0; i < answer.headers.length; i += 2) res.writeHeader(answer.headers[i] as string, answer.headers[i + 1] as string);
              res.end(answer.body, true);
            });
            return;
          }
          handler(new UwsRequest(req, contentLength), new UwsResponse(res));
        } catch (err) {
          // The shared server never throws here; if it ever did, answer rather than let it reach uWS.
          process.emitWarning(`bentoc: request dispatch failed: ${(err as Error).stack ?? String(err)}`);
          try {
            res.cork(() =>
              res
                .writeStatus(statusLine(500))
                .writeHeader("content-type", "application/json")
                .end('{"error":"Internal Server Error","code":"internal","requestId":""}', true),
            );
          } catch {
            /* the response was already used */
          }
        }
      });
      return new Promise((resolve, reject) => {
        app.listen(target.host, target.port, target.exclusive ? LISTEN_EXCLUSIVE : LISTEN_SHARED, (socket) => {
          if (!socket) return reject(new PortInUseError(target.host, target.port));
          listenSocket = socket;
          resolve(uws.us_socket_local_port(socket));
        });
      });
    },
    stopListening() {
      if (listenSocket) {
        uws.us_listen_socket_close(listenSocket);
        listenSocket = false;
      }
    },
    closeAll() {
      listenSocket = false;
      app.close();
    },
  };
}
