/**
 * The node:http backend: runs on every Node and platform (no native code), and is what serves where no
 * uWebSockets.js build loads (Node 22+, musl, old glibc). Node's parser (llhttp) answers what uWS cannot:
 * HTTP/1.0, pipelining, malformed or oversized heads and conflicting Content-Length reach
 * `onProtocolError`, which writes the catalogue's 400/408/431 before the connection closes.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import net, { type Socket } from "node:net";
import { STATUS_TEXT } from "../../contract/error-catalogue.ts";
import {
  type HeaderList,
  type HttpTransport,
  type ListenTarget,
  type OutgoingBody,
  PortInUseError,
  type ProtocolError,
  type ProtocolErrorHandler,
  type RequestHandler,
  type TransportLimits,
  type TransportRequest,
  type TransportResponse,
} from "./transport.ts";

const EMPTY = new Uint8Array(0);

class NodeRequest implements TransportRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentLength: string;
  /**
   * Node's header object, lower-case names, repeats joined with ", " (`joinDuplicateHeaders`). Node builds
   * it for every request whatever the handler reads (its ServerResponse reads `te`, its server `expect`
   * and `host`), so a lookup here is one property read; scanning `rawHeaders` per lookup cost more.
   */
  private readonly headers: IncomingHttpHeaders;
  constructor(req: IncomingMessage) {
    this.method = req.method ?? "GET";
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    this.path = q < 0 ? url : url.slice(0, q);
    this.query = q < 0 ? "" : url.slice(q + 1);
    this.headers = req.headers;
    this.contentLength = this.header("content-length");
  }
  header(name: string): string {
    const value = this.headers[name];
    return typeof value === "string" ? value : value === undefined ? "" : value.join(", ");
  }
  forEachHeader(fn: (name: string, value: string) => void): void {
    for (const name of Object.keys(this.headers)) fn(name, this.header(name));
  }
}

class NodeResponse implements TransportResponse {
  aborted = false;
  readonly chunksOwned = true;
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  onAborted(handler: () => void): void {
    this.res.on("close", () => {
      if (this.res.writableFinished) return;
      this.aborted = true;
      handler();
    });
  }

  onData(handler: (chunk: Uint8Array, isLast: boolean) => void): void {
    this.req.on("data", (chunk: Buffer) => handler(chunk, false));
    this.req.on("end", () => handler(EMPTY, true));
  }

  end(status: number, headers: HeaderList, body: OutgoingBody, close: boolean, head: boolean): void {
    const res = this.res;
    if (this.aborted || res.headersSent) return;
    headers.push("content-length", String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength));
    if (close) headers.push("connection", "close");
    res.writeHead(status, headers);
    if (head) res.end();
    else res.end(body);
  }

  writeHead(status: number, headers: HeaderList): void {
    if (this.aborted || this.res.headersSent) return;
    this.res.writeHead(status, headers);
  }

  write(chunk: OutgoingBody): boolean {
    if (this.aborted) return true;
    return this.res.write(chunk);
  }

  onWritable(handler: () => void): void {
    this.res.once("drain", () => {
      if (!this.aborted) handler();
    });
  }

  endStream(close: boolean): void {
    if (this.aborted) return;
    if (close) this.res.once("finish", () => this.res.socket?.end());
    this.res.end();
  }
}

/** What llhttp (or Node) said about a request it could not parse, as a catalogue code and a message. */
function protocolErrorOf(err: NodeJS.ErrnoException & { reason?: string }, maxHeaderBytes: number): ProtocolError {
  if (err.code === "HPE_HEADER_OVERFLOW") return { code: "headers_too_large", message: `the request head is larger than ${maxHeaderBytes} bytes` };
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") return { code: "request_timeout", message: "the request head was not received in time" };
  const reason = err.reason ?? err.message;
  return { code: "bad_request", message: `malformed HTTP request: ${reason}` };
}

function rawResponse(status: number, headers: HeaderList, body: string): string {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

export function createNodeTransport(limits: TransportLimits): HttpTransport {
  let server: http.Server | undefined;
  return {
    backend: "node",
    listen(target: ListenTarget, handler: RequestHandler, onProtocolError: ProtocolErrorHandler): Promise<number> {
      const srv = http.createServer(
        {
          maxHeaderSize: limits.maxHeaderBytes,
          headersTimeout: limits.headersTimeoutMs,
          // The shared server times out bodies and handlers itself (408/504 with the catalogue's body).
          requestTimeout: 0,
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
          keepAliveTimeout: 5000,
          // A repeated header reads as its values joined with ", " (Node would keep only the first of some).
          joinDuplicateHeaders: true,
        },
        (req, res) => handler(new NodeRequest(req), new NodeResponse(req, res)),
      );
      srv.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
        if (err.code === "ECONNRESET" || err.code === "EPIPE" || !socket.writable) {
          socket.destroy();
          return;
        }
        const answer = onProtocolError(protocolErrorOf(err, limits.maxHeaderBytes));
        socket.end(rawResponse(answer.status, answer.headers, answer.body));
      });
      server = srv;
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          srv.off("listening", onListening);
          if (err.code === "EADDRINUSE") reject(new PortInUseError(target.host, target.port));
          else reject(err);
        };
        const onListening = (): void => {
          srv.off("error", onError);
          const addr = srv.address();
          resolve(typeof addr === "object" && addr ? addr.port : 0);
        };
        srv.once("error", onError);
        srv.once("listening", onListening);
        // In a cluster worker, a non-exclusive listen shares the primary's socket (workers, see worker-pool.ts).
        srv.listen({ host: target.host, port: target.port, exclusive: target.exclusive });
      });
    },
    stopListening() {
      // net.Server's close: http.Server's own (Node 19+) would also drop idle keep-alive connections.
      if (server?.listening) net.Server.prototype.close.call(server);
    },
    closeAll() {
      server?.close();
      server?.closeAllConnections();
    },
  };
}
