/**
 * One HTTP exchange with a remote runner over a keep-alive agent, with a connect timeout and an overall
 * timeout, and failures sorted by whether the runner can have seen the request: a connection that was
 * refused, never established, or reset before any response byte arrived is `retryable` (inference is
 * idempotent, and the bytes may not even have left); a timeout or a failure mid-response is not.
 */
import http from "node:http";
import https from "node:https";

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type TransportFailure = "connect" | "reset" | "timeout" | "aborted" | "broken";

export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly kind: TransportFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** The runner cannot have answered: safe to send again. */
  get retryable(): boolean {
    return this.kind === "connect" || this.kind === "reset";
  }

  /** What went wrong without the address (error answers to clients must not reveal where runners are). */
  get summary(): string {
    const code = (this.cause as NodeJS.ErrnoException | undefined)?.code;
    const what = {
      connect: "could not connect",
      reset: "the connection was reset",
      timeout: "no answer in time",
      aborted: "the call was aborted",
      broken: "the connection broke",
    }[this.kind];
    return code ? `${what} (${code})` : what;
  }
}

export interface ExchangeOptions {
  method: "GET" | "POST";
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array;
  agent: http.Agent;
  connectTimeoutMs: number;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Largest response body accepted. */
  maxBytes?: number;
}

const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "EADDRNOTAVAIL"]);

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}${e.message && !e.message.includes(e.code) ? ` (${e.message})` : ""}` : (e.message ?? String(err));
}

export function exchange(o: ExchangeOptions): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    let responded = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      if (connectTimer) clearTimeout(connectTimer);
      o.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const fail = (err: TransportError) => settle(() => reject(err));
    const mod = o.url.protocol === "https:" ? https : http;
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body) headers["content-length"] = o.body.byteLength;
    const req = mod.request(o.url, { method: o.method, agent: o.agent, headers });
    const overall = setTimeout(() => {
      fail(new TransportError("timeout", `no answer within ${o.timeoutMs} ms`));
      req.destroy();
    }, o.timeoutMs);
    const onAbort = () => {
      fail(new TransportError("aborted", "the call was aborted", { cause: o.signal?.reason }));
      req.destroy();
    };
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener("abort", onAbort, { once: true });

    req.on("socket", (socket) => {
      if (!(socket as { connecting?: boolean }).connecting) return;
      connectTimer = setTimeout(() => {
        fail(new TransportError("connect", `could not connect within ${o.connectTimeoutMs} ms`));
        req.destroy();
      }, o.connectTimeoutMs);
      socket.once("connect", () => clearTimeout(connectTimer));
    });
    req.on("error", (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (responded) return fail(new TransportError("broken", `connection lost while reading the answer: ${describe(err)}`, { cause: err }));
      if (CONNECT_CODES.has(code)) return fail(new TransportError("connect", describe(err), { cause: err }));
      if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED")
        return fail(new TransportError("reset", `connection reset before an answer: ${describe(err)}`, { cause: err }));
      fail(new TransportError("broken", describe(err), { cause: err }));
    });
    req.on("response", (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.byteLength;
        if (o.maxBytes !== undefined && size > o.maxBytes) {
          fail(new TransportError("broken", `answer larger than ${o.maxBytes} bytes`));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) })));
      res.on("error", (err) => fail(new TransportError("broken", `connection lost while reading the answer: ${describe(err)}`, { cause: err })));
      res.on("aborted", () => fail(new TransportError("broken", "connection lost while reading the answer")));
    });
    req.end(o.body);
  });
}
