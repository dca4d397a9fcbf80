/** Status lines (`"404 Not Found"`) for the uWS backend's `writeStatus`, built once per status. */
import { STATUS_TEXT } from "../../contract/error-catalogue.ts";

const cache = new Map<number, string>();

export function statusLine(status: number): string {
  let line = cache.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_TEXT[status] ?? "Status"}`;
    cache.set(status, line);
  }
  return line;
}
