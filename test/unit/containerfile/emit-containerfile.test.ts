import { describe, expect, it } from "vitest";
import { emitContainerfile, HEALTHCHECK_SCRIPT } from "../../../compiler/emit/containerfile/emit-containerfile.ts";
import type { Manifest } from "../../../sdk/manifest.ts";
import { loadManifest, SAMPLE_NAMES } from "../k8s/sample-manifests.ts";

interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

/** Instructions of a Containerfile: comments dropped, `\` continuations joined. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith("\\")) line = `${line.slice(0, -1)} ${(lines[++i] ?? "").trim()}`;
    const m = /^(\S+)\s*(.*)$/.exec(line.trim())!;
    out.push({ line: start + 1, keyword: m[1]!.toUpperCase(), args: m[2]! });
  }
  return out;
}

function index(ins: Instruction[], predicate: (i: Instruction) => boolean, what: string): number {
  const n = ins.findIndex(predicate);
  expect(n, what).toBeGreaterThanOrEqual(0);
  return n;
}

describe.each(SAMPLE_NAMES)("emitContainerfile(%s)", (name) => {
  const manifest = loadManifest(name);
  const files = emitContainerfile(manifest);
  const text = files["Containerfile"]!;
  const ins = instructions(text);

  it("emits the Containerfile and .containerignore deterministically", () => {
    expect(Object.keys(files).sort()).toEqual([".containerignore", "Containerfile"]);
    expect(emitContainerfile(structuredClone(manifest))).toEqual(files);
  });

  it("declares BASE_IMAGE before the first FROM, defaulting to a public Node 20 slim image, and uses it in every stage", () => {
    expect(ins[0]).toMatchObject({ keyword: "ARG", args: "BASE_IMAGE=docker.io/library/node:20-bookworm-slim" });
    const froms = ins.filter((i) => i.keyword === "FROM");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Containerfile ARG reference, as emitted
    expect(froms.map((f) => f.args)).toEqual(["${BASE_IMAGE} AS deps", "${BASE_IMAGE}"]);
  });

  it("has only exec-form RUN, CMD, ENTRYPOINT and HEALTHCHECK (the base has no /bin/sh)", () => {
    const runs = ins.filter((i) => i.keyword === "RUN");
    expect(runs.length).toBeGreaterThan(0);
    for (const i of ins.filter((i) => ["RUN", "CMD", "ENTRYPOINT"].includes(i.keyword))) {
      expect(Array.isArray(JSON.parse(i.args)), `${i.keyword} at line ${i.line}`).toBe(true);
    }
    const hc = ins.find((i) => i.keyword === "HEALTHCHECK")!;
    const cmd = /\bCMD (\[.*\])$/.exec(hc.args)![1]!;
    expect(JSON.parse(cmd)).toEqual(["node", "-e", HEALTHCHECK_SCRIPT]);
    expect(HEALTHCHECK_SCRIPT).toContain("http://127.0.0.1:3000/readyz");
  });

  it("installs dependencies with npm ci in a deps stage, with the CA bundle for npm", () => {
    const deps = ins.slice(
      0,
      ins.findIndex((i) => i.keyword === "FROM" && !i.args.includes(" AS ")),
    );
    expect(deps.some((i) => i.keyword === "COPY" && i.args === "package.json package-lock.json /bento/")).toBe(true);
    const run = deps.find((i) => i.keyword === "RUN")!;
    expect(JSON.parse(run.args)).toEqual(["node", "/usr/local/lib/node_modules/npm/bin/npm-cli.js", "ci", "--omit=dev"]);
    expect(deps.find((i) => i.keyword === "ENV")!.args).toContain("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt");
  });

  it("orders the serving layers dependencies → models → code, then drops root", () => {
    const final = ins.findIndex((i) => i.keyword === "FROM" && !i.args.includes(" AS "));
    const deps = index(ins, (i) => i.keyword === "COPY" && i.args.startsWith("--from=deps /bento/node_modules"), "deps copy");
    const code = index(ins, (i) => i.keyword === "COPY" && i.args.startsWith("bento.json"), "code copy");
    expect(deps).toBeGreaterThan(final);
    expect(ins[code]!.args).toBe(`bento.json openapi.json ${manifest.entry.bundle} /bento/`);
    const models = ins.findIndex((i) => i.keyword === "COPY" && i.args === "models/ /bento/models/");
    if (manifest.models.length > 0) {
      expect(models).toBeGreaterThan(deps);
      expect(code).toBeGreaterThan(models);
    } else expect(models).toBe(-1);
    // Nothing after the code layer adds a filesystem layer.
    expect(ins.slice(code + 1).filter((i) => ["COPY", "ADD", "RUN"].includes(i.keyword))).toEqual([]);
    const user = index(ins, (i) => i.keyword === "USER", "USER");
    expect(ins[user]!.args).toBe("10001:10001");
    expect(ins.filter((i) => i.keyword === "EXPOSE").map((i) => i.args)).toEqual(["3000"]);
    expect(ins.find((i) => i.keyword === "ENV" && i.args.includes("BENTOC_HOME"))!.args).toContain("BENTOC_HOME=/bento/models");
    expect(JSON.parse(ins.find((i) => i.keyword === "ENTRYPOINT")!.args)).toEqual(["node", "/bento/node_modules/bentoc/dist/cli/bentoc.js"]);
    expect(JSON.parse(ins.find((i) => i.keyword === "CMD")!.args)).toEqual(["serve", "/bento", "--port", "3000"]);
  });

  it("lets into the build context only what the image copies", () => {
    const ignore = files[".containerignore"]!.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(ignore[0]).toBe("*");
    const allowed = ignore.slice(1).map((l) => l.replace(/^!/, ""));
    const copied = ins
      .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) =>
        i.args
          .replace(/^--\S+ /, "")
          .split(" ")
          .slice(0, -1),
      );
    for (const src of copied) expect(allowed, src).toContain(src);
  });
});

describe("emitContainerfile options", () => {
  const manifest = loadManifest("support-tickets");

  it("adds system packages and a setup script as exec-form RUNs, env sorted and quoted", () => {
    const text = emitContainerfile(manifest, {
      baseImage: "localhost/node-base:test",
      systemPackages: ["libgomp1", "ca-certificates"],
      env: { Z_LAST: "has space", A_FIRST: "1", PRICE: "$5" },
      setupScript: "env/setup.sh",
    })["Containerfile"]!;
    const ins = instructions(text);
    expect(ins[0]!.args).toBe("BASE_IMAGE=localhost/node-base:test");
    const runs = ins.filter((i) => i.keyword === "RUN").map((i) => JSON.parse(i.args));
    expect(runs).toContainEqual(["apt-get", "install", "-y", "--no-install-recommends", "ca-certificates", "libgomp1"]);
    expect(runs).toContainEqual(["/bento/env/setup.sh"]);
    expect(ins.some((i) => i.keyword === "COPY" && i.args === "--chmod=0755 env/setup.sh /bento/env/setup.sh")).toBe(true);
    const env = ins.filter((i) => i.keyword === "ENV").at(-1)!.args;
    expect(env).toMatch(/A_FIRST=1 .*PRICE="\\\$5" .*Z_LAST="has space"/);
  });

  it("defaults the base image from nodeVersion and can copy a vendored node_modules instead of npm ci", () => {
    const files = emitContainerfile(manifest, { nodeVersion: "22", dependencies: "copy" });
    const ins = instructions(files["Containerfile"]!);
    expect(ins[0]!.args).toBe("BASE_IMAGE=docker.io/library/node:22-bookworm-slim");
    expect(ins.filter((i) => i.keyword === "FROM")).toHaveLength(1);
    expect(ins.filter((i) => i.keyword === "RUN")).toEqual([]);
    expect(ins.some((i) => i.keyword === "COPY" && i.args === "node_modules/ /bento/node_modules/")).toBe(true);
    expect(files[".containerignore"]).toContain("!node_modules/**");
  });

  it("only skips the onnxruntime CUDA download when no runner asks for a GPU", () => {
    expect(emitContainerfile(manifest)["Containerfile"]).toContain("npm_config_onnxruntime_node_install=skip");
    expect(emitContainerfile(loadManifest("fraud-scorer"))["Containerfile"]).not.toContain("onnxruntime_node_install");
  });

  it("rejects values that would break or escape the Containerfile", () => {
    expect(() => emitContainerfile(manifest, { setupScript: "../etc/passwd" })).toThrow(/relative path/);
    expect(() => emitContainerfile(manifest, { systemPackages: ["curl; rm -rf /"] })).toThrow(/invalid system package/);
    expect(() => emitContainerfile(manifest, { env: { "BAD-NAME": "x" } })).toThrow(/invalid environment variable/);
    const bad: Manifest = structuredClone(manifest);
    bad.entry.bundle = "/abs/service.mjs";
    expect(() => emitContainerfile(bad)).toThrow(/bundle/);
  });
});
