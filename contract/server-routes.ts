/**
 * The routes the bentoc servers answer themselves, besides a service's APIs. The API server serves
 * `SERVER_ROUTES` (and the Swagger UI assets under `/docs/`, and the admin routes under `/_bentoc/` when
 * enabled); the runner server of the split layout serves the V2 (Open Inference Protocol) routes. The
 * compiler refuses an API on any of them (BC1017, `isReservedRoute`), so a service can never shadow one.
 */

/** Exact paths of the API server's own routes. */
export const SERVER_ROUTES = {
  live: "/livez",
  ready: "/readyz",
  metrics: "/metrics",
  docs: "/docs",
  openapi: "/docs.json",
} as const;

/** The Swagger UI assets (`/docs/swagger-ui.css`, …). */
export const DOCS_ASSET_PREFIX = "/docs/";
/** bentoc's admin routes (`server.admin`). */
export const ADMIN_PREFIX = "/_bentoc/";
/** `GET|POST`: read or change the batching settings of a process's runners. */
export const ADMIN_BATCHING_ROUTE = `${ADMIN_PREFIX}batching`;

/** The Open Inference Protocol V2 routes of the runner server (runner-split). */
export const V2_ROUTES = {
  server: "/v2",
  live: "/v2/health/live",
  ready: "/v2/health/ready",
} as const;
/** Every V2 route: health, model metadata, readiness and inference under `/v2/models/{name}`. */
export const V2_PREFIX = "/v2/";

/** What an API route looks like: '/' followed by segments of letters, digits, '-', '_', '.', '~'. */
export const ROUTE_PATTERN = /^(\/[A-Za-z0-9._~-]+)+$/;

/** Paths no API may take: the servers' own routes. */
export const RESERVED_ROUTES: readonly string[] = [...Object.values(SERVER_ROUTES), V2_ROUTES.server];
/** Prefixes under which no API may live. */
export const RESERVED_PREFIXES: readonly string[] = [DOCS_ASSET_PREFIX, ADMIN_PREFIX, V2_PREFIX];

/** Whether an API route would collide with a route the servers own. */
export function isReservedRoute(route: string): boolean {
  return RESERVED_ROUTES.includes(route) || RESERVED_PREFIXES.some((prefix) => route.startsWith(prefix));
}

/** The reserved routes and prefixes as a diagnostic lists them: `/livez, …, /docs/*, /_bentoc/*, /v2/*`. */
export function reservedRoutesText(): string {
  return [...RESERVED_ROUTES, ...RESERVED_PREFIXES.map((p) => `${p}*`)].join(", ");
}
