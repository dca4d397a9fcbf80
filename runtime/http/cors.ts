/**
 * CORS: which browser origins may call the service (`server.cors` in bentoc.yaml). Off by default; when on,
 * a response to an allowed origin carries `Access-Control-Allow-Origin` (and the headers the generated
 * client reads), and an `OPTIONS` preflight is answered 204 with the allowed methods.
 */
import type { HeaderList } from "./transport.ts";

export interface CorsConfig {
  enabled: boolean;
  origins: readonly string[];
}

export interface CorsPolicy {
  /** Adds the response headers for a request from `origin` (nothing when it is not allowed). */
  addResponseHeaders(origin: string, headers: HeaderList): void;
  /** Adds the preflight headers for `origin` asking about a route that allows `allow`. */
  addPreflightHeaders(origin: string, allow: string, requestedHeaders: string, headers: HeaderList): void;
}

const EXPOSED = "x-request-id, x-dtype, x-shape, content-disposition, retry-after";
const DEFAULT_ALLOWED_HEADERS = "content-type, x-request-id, traceparent";

export function createCorsPolicy(config: CorsConfig): CorsPolicy | undefined {
  if (!config.enabled) return undefined;
  const all = config.origins.includes("*");
  const origins = new Set(config.origins);
  const allowOrigin = (origin: string): string | undefined => (all ? "*" : origins.has(origin) ? origin : undefined);
  return {
    addResponseHeaders(origin, headers) {
      const value = allowOrigin(origin);
      if (value === undefined) return;
      headers.push("access-control-allow-origin", value);
      if (value !== "*") headers.push("vary", "Origin");
      headers.push("access-control-expose-headers", EXPOSED);
    },
    addPreflightHeaders(origin, allow, requestedHeaders, headers) {
      if (allowOrigin(origin) === undefined) return;
      headers.push(
        "access-control-allow-methods",
        allow,
        "access-control-allow-headers",
        requestedHeaders || DEFAULT_ALLOWED_HEADERS,
        "access-control-max-age",
        "600",
      );
    },
  };
}
