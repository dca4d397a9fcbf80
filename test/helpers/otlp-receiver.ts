/**
 * A real OTLP/HTTP traces receiver for tests: a `node:http` server on a free port accepting
 * `POST /v1/traces` with OTLP protobuf (`application/x-protobuf`, bentoc's default, decoded by protobufjs
 * in otlp-protobuf-decode.ts) or OTLP JSON (`application/json`), gzip or not, like a collector. Other
 * content types are refused with 415, so a misconfigured exporter shows up as missing spans, loudly.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { decodeOtlpProtobuf } from "./otlp-protobuf-decode.ts";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind number: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** Unix nanoseconds. */
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** e.g. http://127.0.0.1:40123/v1/traces */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received (including refused ones). */
  readonly requests: { contentType: string; headers: Record<string, string | string[] | undefined> }[];
  clear(): void;
  close(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
};
type KeyValue = { key: string; value: AnyValue };

function decodeAttributes(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

/** OTLP JSON ids are hex; accept base64 too (the protobuf-JSON mapping) and normalise to lower hex. */
function hexId(id: string | undefined, bytes: number): string {
  if (!id) return "";
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(id)) return id.toLowerCase();
  return Buffer.from(id, "base64").toString("hex");
}

interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  links?: { traceId: string; spanId: string }[];
  events?: { name: string; attributes?: KeyValue[] }[];
  status?: { code?: number };
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
}
interface OtlpJsonRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: OtlpJsonSpan[] }[];
  }[];
}

export function decodeOtlpJson(body: OtlpJsonRequest): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = decodeAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hexId(s.traceId, 16),
          spanId: hexId(s.spanId, 8),
          parentSpanId: hexId(s.parentSpanId, 8),
          name: s.name,
          kind: s.kind,
          attributes: decodeAttributes(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: hexId(l.traceId, 16), spanId: hexId(l.spanId, 8) })),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: decodeAttributes(e.attributes) })),
          statusCode: s.status?.code ?? 0,
          startTimeUnixNano: BigInt(s.startTimeUnixNano ?? 0),
          endTimeUnixNano: BigInt(s.endTimeUnixNano ?? 0),
          resource,
        });
      }
    }
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: OtlpReceiver["requests"] = [];
  const server: Server = createServer((req, res) => {
    const contentType = String(req.headers["content-type"] ?? "");
    requests.push({ contentType, headers: { ...req.headers } });
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404).end();
      return;
    }
    const protobuf = contentType.startsWith("application/x-protobuf");
    if (!protobuf && !contentType.startsWith("application/json")) {
      req.resume();
      res.writeHead(415, { "content-type": "text/plain" }).end("only OTLP protobuf or JSON is accepted");
      return;
    }
    readBody(req).then(
      (body) => {
        try {
          const doc = (protobuf ? decodeOtlpProtobuf(body) : JSON.parse(body.toString("utf8"))) as OtlpJsonRequest;
          spans.push(...decodeOtlpJson(doc));
          if (protobuf) res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
          else res.writeHead(200, { "content-type": "application/json" }).end("{}");
        } catch (e) {
          res.writeHead(400, { "content-type": "text/plain" }).end(String(e));
        }
      },
      (e: unknown) => res.writeHead(400).end(String(e)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests,
    clear() {
      spans.length = 0;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
