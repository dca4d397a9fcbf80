/**
 * The /metrics body. The observability module's telemetry exposes `metricsText()` (duck-typed, so the
 * server does not depend on its implementation); without it, an empty prom-client registry answers.
 */
import promClient from "prom-client";
import type { Telemetry } from "../observability/telemetry.ts";

let empty: promClient.Registry | undefined;

export async function metricsText(telemetry: Telemetry): Promise<string> {
  const t = telemetry as Telemetry & { metricsText?: () => Promise<string> | string };
  if (typeof t.metricsText === "function") return await t.metricsText();
  empty ??= new promClient.Registry();
  return empty.metrics();
}
