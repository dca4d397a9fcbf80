/**
 * With `--workers 2`, connections land on either API worker process, and so do scrapes. Every worker's
 * /metrics answers with the sum over all workers (the parent aggregates over IPC), so a scrape always
 * sees every request the server answered, whichever worker it reached.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

function requestTotal(text: string, endpoint: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("bentoc_api_server_request_total{") && line.includes(`endpoint="${endpoint}"`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

describe("metrics with several API workers", () => {
  let home: string;
  let served: ServedSample;

  beforeAll(async () => {
    home = await prepareHome(["support-tickets"]);
    served = await serveSample("support-tickets", { home, args: ["--workers", "2"] });
  }, 180_000);

  afterAll(async () => {
    if (served) {
      expect(await served.stop()).toBe(0);
      removeDir(served.outDir);
    }
    if (home) removeDir(home);
  });

  it("every scrape counts the requests of all workers", async () => {
    const sent = 40;
    // A fresh connection per request (connection: close) so requests spread over both workers.
    const statuses = await Promise.all(
      Array.from({ length: sent }, (_, i) =>
        fetch(`${served.url}/classify`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: JSON.stringify({ texts: [`please refund the second charge on invoice ${i}`] }),
        }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array(sent).fill(200));
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${served.url}/metrics`, { headers: { connection: "close" } });
      expect(res.status).toBe(200);
      expect(requestTotal(await res.text(), "/classify")).toBe(sent);
    }
  });
});
