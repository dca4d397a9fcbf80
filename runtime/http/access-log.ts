/**
 * The access log: one JSON line per finished request, the same for the API server and the runner server.
 * Built by hand: it runs once per request, and JSON.stringify of an object costs more than the rest.
 */
export interface AccessRecord {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestId: string;
  bytesIn: number;
  bytesOut: number;
  /** W3C traceparent of the request's span, when there is one. */
  traceparent: string | undefined;
}

export function accessLine(level: "debug" | "info", r: AccessRecord): string {
  const tp = r.traceparent;
  return (
    `{"time":"${new Date().toISOString()}","level":"${level}","msg":"request","method":${JSON.stringify(r.method)},"path":${JSON.stringify(r.path)},` +
    `"status":${r.status},"durationMs":${Math.round(r.durationMs * 1000) / 1000},"requestId":${JSON.stringify(r.requestId)},"bytesIn":${r.bytesIn},"bytesOut":${r.bytesOut}` +
    (tp && tp.length >= 35 ? `,"traceId":"${tp.slice(3, 35)}"}` : "}")
  );
}
