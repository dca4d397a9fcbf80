/** Status lines for `res.writeStatus`, built once. */
const TEXT: Record<number, string> = {
  200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
  408: "Request Timeout", 413: "Payload Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests",
  499: "Client Closed Request", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
  504: "Gateway Timeout",
};

const cache = new Map<number, string>();

export function statusLine(status: number): string {
  let line = cache.get(status);
  if (line === undefined) {
    line = `${status} ${TEXT[status] ?? "Status"}`;
    cache.set(status, line);
  }
  return line;
}
