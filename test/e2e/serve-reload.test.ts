/**
 * `bentoc serve --reload`: while a request loop runs, an edit is recompiled and swapped in without a failed
 * request; a compile error keeps the last good version serving and prints the diagnostics.
 */

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../helpers/prometheus.ts";
import { repoRoot, startBentoc, waitReady } from "../helpers/serve-sample.ts";

const dir = join(repoRoot, "test/.tmp", `reload-${process.pid}`);
const source = (version: string, extra = "") => `import { api, service } from "bentoc";

export interface Greeting {
  version: string;
  message: string;
}

@service({ name: "reloadable" })
export class Reloadable {
  @api({ route: "/greet" })
  async greet(input: { name: string }): Promise<Greeting> {
    ${extra}
    return { version: "${version}", message: "hello " + input.name };
  }
}
`;

let stop: (() => void) | undefined;
afterAll(() => {
  stop?.();
  rmSync(dir, { recursive: true, force: true });
});

it("swaps code under a request loop with no failed request, and keeps serving on a compile error", async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "service.ts"), source("v1"));
  const port = await freePort();
  const { child, output } = startBentoc(["serve", dir, "--reload", "--port", String(port), "--host", "127.0.0.1"], { BENTOC_LOG_LEVEL: "warn" });
  stop = () => child.kill("SIGKILL");
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, output);

  const seen: string[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await fetch(`${url}/greet`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"a"}' });
        const body = (await res.json()) as { version?: string };
        if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(body)}`);
        else if (seen[seen.length - 1] !== body.version) seen.push(body.version ?? "?");
      } catch (err) {
        failures.push(String(err));
      }
    }
  })();
  const until = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 60_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await until(() => seen.includes("v1"), "v1");
  writeFileSync(join(dir, "service.ts"), source("v2"));
  await until(() => seen.includes("v2"), "v2 after the edit");

  writeFileSync(join(dir, "service.ts"), source("v3", 'const broken: number = "not a number";'));
  await until(() => /still serving the last good version/.test(output()), "the compile error report");
  const afterError = seen.length;
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await loop;

  expect(output()).toMatch(/TS2322/);
  expect(seen.slice(afterError)).toEqual([]); // nothing new: still v2
  expect(seen).toEqual(["v1", "v2"]);
  expect(failures).toEqual([]);
});
