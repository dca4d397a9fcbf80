/** The transport for a backend setting (`server.http`, `--http`): the probe's choice, built. */
import { createNodeTransport } from "./node-transport.ts";
import { type BackendChoice, chooseBackend, type HttpBackendSetting, probeUws } from "./select-backend.ts";
import type { HttpTransport, TransportLimits } from "./transport.ts";
import { createUwsTransport } from "./uws-transport.ts";

export function createTransport(setting: HttpBackendSetting, limits: TransportLimits): { transport: HttpTransport; choice: BackendChoice } {
  const choice = chooseBackend(setting);
  const uws = choice.name === "uws" ? probeUws().module : undefined;
  return { transport: uws ? createUwsTransport(uws) : createNodeTransport(limits), choice };
}
