/**
 * The load both HTTP overhead benchmarks drive: autocannon POSTing a small JSON body to `/echo`.
 */
// @ts-expect-error autocannon ships no types (and @types/autocannon is not installed); the shape used is below.
import autocannonUntyped from "autocannon";

export interface LoadResult {
  requests: { average: number; total: number };
  latency: { average: number; p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

const autocannon = autocannonUntyped as (opts: Record<string, unknown>) => Promise<LoadResult>;

/** The echo request body (the echo service's `/echo` input). */
export const ECHO_BODY = JSON.stringify({ value: { id: 7, text: "hello world", tags: ["a", "b"] } });

const echoRequest = (port: number, connections: number) => ({
  url: `http://127.0.0.1:${port}/echo`,
  method: "POST",
  body: ECHO_BODY,
  headers: { "content-type": "application/json" },
  connections,
});

/** `connections` closed-loop clients for `durationS` seconds against `http://127.0.0.1:<port>/echo`. */
export function loadEcho(port: number, durationS: number, connections: number): Promise<LoadResult> {
  return autocannon({ ...echoRequest(port, connections), duration: durationS });
}

/** The same load until `requests` requests were sent. */
export function loadEchoRequests(port: number, requests: number, connections: number): Promise<LoadResult> {
  return autocannon({ ...echoRequest(port, connections), amount: requests });
}
