import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2020Module from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { BentofileError, findBentofile, loadBentofile } from "../../../bento/bentofile.ts";
import { BENTOFILE_SCHEMA } from "../../../bento/bentofile-schema.ts";

const Ajv2020 = Ajv2020Module as unknown as typeof Ajv2020Module.default;

const dir = mkdtempSync(join(tmpdir(), "bentofile-"));
writeFileSync(join(dir, "service.ts"), "export {};\n");
writeFileSync(join(dir, "README.md"), "# Tickets\nRoutes tickets.\n");
mkdirSync(join(dir, "scripts"));
writeFileSync(join(dir, "scripts", "setup.mjs"), "console.log(1)\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errors(text: string): string[] {
  const file = join(dir, "bentofile.yaml");
  writeFileSync(file, text);
  try {
    loadBentofile(file);
  } catch (err) {
    expect(err).toBeInstanceOf(BentofileError);
    return (err as Error).message.split("\n").map((l) => l.replace(/^.*bentofile\.yaml/, "bentofile.yaml"));
  }
  throw new Error("expected the bentofile to be rejected");
}

describe("bentofile.yaml", () => {
  it("has a schema that is valid JSON Schema 2020-12 (loadBentofile does not check it at run time)", () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    expect(ajv.validateSchema(BENTOFILE_SCHEMA), ajv.errorsText()).toBe(true);
  });

  it("accepts a full bentofile and resolves paths", () => {
    const file = join(dir, "bentofile.yaml");
    writeFileSync(
      file,
      [
        "service: service.ts",
        "name: tickets",
        "labels: { owner: team-a }",
        "description:",
        "  file: README.md",
        "include: ['data/**']",
        "exclude: ['data/tmp/**']",
        "models: ['support-tickets-minilm:latest']",
        "packages: { '@huggingface/tokenizers': '^0.2.0' }",
        "docker:",
        "  base_image: localhost/base:1",
        "  system_packages: [libgomp1]",
        "  env: { A: '1' }",
        "  setup_script: scripts/setup.mjs",
        "  node_version: '20'",
        "",
      ].join("\n"),
    );
    const b = loadBentofile(file);
    expect(b.service).toBe(join(dir, "service.ts"));
    expect(b.name).toBe("tickets");
    expect(b.description).toContain("Routes tickets.");
    expect(b.docker).toEqual({
      baseImage: "localhost/base:1",
      systemPackages: ["libgomp1"],
      env: { A: "1" },
      setupScript: "scripts/setup.mjs",
      nodeVersion: "20",
    });
    expect(b.packages).toEqual({ "@huggingface/tokenizers": "^0.2.0" });
  });

  it("names the line, column and key path of a wrong type", () => {
    const lines = errors(["service: service.ts", "labels:", "  owner: team-a", "docker:", "  env:", "    A: '1'", "  base_image: 42", ""].join("\n"));
    expect(lines).toEqual(["bentofile.yaml:7:15 - error: docker.base_image must be a string"]);
  });

  it("reports every problem, each at its own position", () => {
    const lines = errors(["service: service.ts", "include: not-a-list", "docker:", "  imagee: x", "  node_version: twenty", "models: [42]", ""].join("\n"));
    expect(lines).toEqual([
      "bentofile.yaml:2:10 - error: include must be a list",
      'bentofile.yaml:4:3 - error: unknown key "imagee" in docker (expected one of: base_image, system_packages, env, setup_script, node_version)',
      "bentofile.yaml:5:17 - error: docker.node_version has an invalid value (must match ^\\d+(\\.\\d+){0,2}$)",
      "bentofile.yaml:6:10 - error: models[0] must be a string",
    ]);
  });

  it("requires service and rejects unknown top-level keys", () => {
    expect(errors("name: x\nservices: a.ts\n")).toEqual([
      "bentofile.yaml:1:1 - error: service is required",
      'bentofile.yaml:2:1 - error: unknown key "services" (expected one of: service, name, labels, description, include, exclude, models, packages, docker)',
    ]);
  });

  it("checks that referenced files exist inside the build directory", () => {
    expect(errors("service: missing.ts\n")).toEqual([
      `bentofile.yaml:1:10 - error: service: service missing.ts not found (looked for ${join(dir, "missing.ts")})`,
    ]);
    expect(errors("service: service.ts\ndescription: { file: ../../etc/passwd }\n")[0]).toMatch(
      /^bentofile\.yaml:2:22 - error: description\.file \.\.\/\.\.\/etc\/passwd is outside the build directory/,
    );
    expect(errors("service: service.ts\ndescription: [1]\n")).toEqual([
      "bentofile.yaml:2:14 - error: description must be a string or a mapping { file: PATH }",
    ]);
  });

  it("reports YAML syntax errors with their line", () => {
    expect(errors("service: service.ts\nlabels: { a: 1\n")[0]).toMatch(/^bentofile\.yaml:\d+:\d+ - error: /);
  });

  it("defaults to service.ts when a directory has no bentofile", () => {
    const d = mkdtempSync(join(tmpdir(), "bentofile-default-"));
    try {
      writeFileSync(join(d, "service.ts"), "export {};\n");
      expect(findBentofile(d).service).toBe(join(d, "service.ts"));
      rmSync(join(d, "service.ts"));
      expect(() => findBentofile(d)).toThrow(/no bentofile\.yaml, service\.ts, index\.ts, src\/service\.ts/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
