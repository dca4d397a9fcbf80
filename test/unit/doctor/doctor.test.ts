/**
 * `bentoc doctor`: the facts are this machine's (Node, the HTTP backend choice, the installed
 * onnxruntime-node and its providers), the text is aligned, and the built CLI prints the same as JSON.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { doctorText } from "../../../runtime/doctor/doctor-text.ts";
import { collectEnvironmentFacts, type EnvironmentFacts, libcOf } from "../../../runtime/doctor/environment-facts.ts";
import { chooseBackend } from "../../../runtime/http/select-backend.ts";
import { bentocBin, repoRoot } from "../../helpers/serve-sample.ts";

const home = mkdtempSync(join(tmpdir(), "bentoc-doctor-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
const ortVersion = (createRequire(import.meta.url)("onnxruntime-node/package.json") as { version: string }).version;

describe("bentoc doctor", () => {
  it("collects this machine's facts", async () => {
    const f = await collectEnvironmentFacts();
    expect(f.bentoc).toEqual({ version: pkg.version, root: repoRoot.replace(/\/$/, ""), from: "sources" });
    expect(f.node.version).toBe(process.version);
    expect(f.node.abi).toBe(process.versions.modules);
    expect(f.platform).toMatchObject({ os: process.platform, arch: process.arch });
    const choice = chooseBackend("auto");
    expect(f.http).toEqual({ backend: choice.name, reason: choice.reason });
    expect(f.onnxruntime.version).toBe(ortVersion);
    expect(f.onnxruntime.providers).toContainEqual({ name: "cpu", status: "bundled" });
    expect(f.containers.tools.map((t) => t.name)).toEqual(["podman", "buildah", "docker"]);
    expect(f.containers.selected).toBe(f.containers.tools.find((t) => t.path)?.name ?? null);
  });

  it("names the C library", () => {
    expect(libcOf({ header: { glibcVersionRuntime: "2.36" } }, "linux")).toBe("glibc 2.36");
    expect(libcOf({ header: {} }, "linux")).toBe("musl (no glibc found)");
    expect(libcOf(undefined, "darwin")).toBe("system");
  });

  it("prints one aligned line per fact, with a hint for missing providers", async () => {
    const f: EnvironmentFacts = {
      ...(await collectEnvironmentFacts()),
      onnxruntime: {
        version: "1.30.0",
        providers: [
          { name: "cpu", status: "bundled" },
          { name: "cuda", status: "missing" },
        ],
      },
      modelStore: { path: "/nowhere", exists: false, models: null },
    };
    const lines = doctorText(f).trimEnd().split("\n");
    expect(lines.map((l) => l.split(/\s{2,}/)[0])).toEqual([
      "bentoc",
      "node",
      "platform",
      "http backend",
      "onnxruntime",
      "providers",
      "model store",
      "containers",
    ]);
    const column = lines[0]!.search(/(?<=\s\s)\S/);
    for (const l of lines) expect(l.search(/(?<=\s\s)\S/), l).toBe(column);
    expect(lines[5]).toContain("cpu; not installed: cuda (");
    expect(lines[6]).toContain("/nowhere (not created yet");
  });

  it("the built CLI prints the facts as JSON and exits 0", () => {
    const out = execFileSync(process.execPath, [bentocBin, "doctor", "--json"], { env: { ...process.env, BENTOC_HOME: home }, encoding: "utf8" });
    const f = JSON.parse(out) as EnvironmentFacts;
    expect(f.bentoc.from).toBe("dist");
    expect(f.modelStore).toEqual({ path: home, exists: true, models: 0 });
    expect(f.onnxruntime.version).toBe(ortVersion);
    const text = execFileSync(process.execPath, [bentocBin, "doctor"], { env: { ...process.env, BENTOC_HOME: home }, encoding: "utf8" });
    expect(text).toMatch(new RegExp(`^bentoc +${pkg.version.replace(/\./g, "\\.")} \\(`));
  });
});
