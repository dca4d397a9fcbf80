/**
 * The manifest's JSON Schema (contract/manifest-schema.ts) and its TypeScript type (sdk/manifest.ts) may
 * not drift: every object schema is compared with the type it describes, read from the source with the
 * TypeScript checker (same property names, same required ones, same kind of value for each), and every
 * manifest the compiler writes for the samples validates against the schema.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020Module from "ajv/dist/2020.js";
import { Project, type Type } from "ts-morph";
import { describe, expect, it } from "vitest";
import { MANIFEST_AJV_OPTIONS } from "../../../contract/manifest-ajv-options.ts";
import { checkManifest, ManifestError, parseManifest } from "../../../contract/manifest-check.ts";
import { IO_DESCRIPTOR_KINDS, MANIFEST_JSON_SCHEMA } from "../../../contract/manifest-schema.ts";
import type { Manifest } from "../../../sdk/manifest.ts";
import { echoManifest } from "../../fixtures/runtime/echo-manifest.ts";
import { ALL_MANIFESTS, loadManifest } from "../emit/load-manifests.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
type Schema = Record<string, unknown>;
const DEFS = MANIFEST_JSON_SCHEMA.$defs as unknown as Record<string, Schema>;

/** Each object schema of `$defs` and the TypeScript type it describes. */
const TYPE_OF_DEF: Record<string, string> = {
  Manifest: "Manifest",
  Entry: 'Manifest["entry"]',
  ServiceManifest: "ServiceManifest",
  Traffic: 'ServiceManifest["traffic"]',
  Resources: "Resources",
  Dependency: 'ServiceManifest["dependencies"][number]',
  ApiManifest: "ApiManifest",
  IoSpec: "IoSpec",
  RunnerManifest: "RunnerManifest",
  Scaling: 'RunnerManifest["scaling"]',
  RunnerMethodManifest: "RunnerMethodManifest",
  JsonDescriptor: 'Extract<IODescriptor, { kind: "json" }>',
  TextDescriptor: 'Extract<IODescriptor, { kind: "text" }>',
  NdArrayDescriptor: 'Extract<IODescriptor, { kind: "ndarray" }>',
  ImageDescriptor: 'Extract<IODescriptor, { kind: "image" }>',
  FileDescriptor: 'Extract<IODescriptor, { kind: "file" }>',
  MultipartDescriptor: 'Extract<IODescriptor, { kind: "multipart" }>',
};

interface Field {
  required: boolean;
  /** What kind of JSON value: "string", "number", "boolean", "null", "array", "object", joined with "|". */
  kinds: string;
}

/** The fields of each type, read with the TypeScript checker from sdk/. */
function typeFields(): Record<string, Record<string, Field>> {
  const project = new Project({
    compilerOptions: { strict: true, exactOptionalPropertyTypes: true, allowImportingTsExtensions: true, noEmit: true },
    skipAddingFilesFromTsConfig: true,
  });
  for (const f of ["manifest.ts", "io.ts", "types.ts"]) project.addSourceFileAtPath(`${root}sdk/${f}`);
  const probe = project.createSourceFile(
    `${root}sdk/__manifest_probe.ts`,
    [
      'import type { ApiManifest, IoSpec, Manifest, RunnerManifest, RunnerMethodManifest, ServiceManifest } from "./manifest.ts";',
      'import type { IODescriptor } from "./io.ts";',
      'import type { Resources } from "./types.ts";',
      ...Object.entries(TYPE_OF_DEF).map(([def, type]) => `export type ${def}_ = ${type};`),
    ].join("\n"),
  );
  const out: Record<string, Record<string, Field>> = {};
  for (const def of Object.keys(TYPE_OF_DEF)) {
    const type = probe.getTypeAliasOrThrow(`${def}_`).getType();
    const fields: Record<string, Field> = {};
    for (const prop of type.getProperties()) {
      const propType = prop.getTypeAtLocation(probe);
      fields[prop.getName()] = { required: !prop.isOptional(), kinds: typeKinds(propType) };
    }
    out[def] = fields;
  }
  return out;
}

function typeKinds(type: Type): string {
  const members = type.isUnion() && !type.isBoolean() ? type.getUnionTypes() : [type];
  const kinds = new Set<string>();
  for (const t of members) {
    if (t.isUndefined()) continue;
    if (t.isString() || t.isStringLiteral()) kinds.add("string");
    else if (t.isNumber() || t.isNumberLiteral()) kinds.add("number");
    else if (t.isBoolean() || t.isBooleanLiteral()) kinds.add("boolean");
    else if (t.isNull()) kinds.add("null");
    else if (t.isArray() || t.isReadonlyArray()) kinds.add("array");
    else if (t.isObject()) kinds.add("object");
    else kinds.add(`?${t.getText()}`);
  }
  return [...kinds].sort().join("|");
}

function schemaKinds(schema: Schema): string {
  const kinds = new Set<string>();
  const add = (v: unknown) => kinds.add(v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  if ("$ref" in schema) kinds.add("object");
  if ("const" in schema) add(schema["const"]);
  if (Array.isArray(schema["enum"])) for (const v of schema["enum"]) add(v);
  const type = schema["type"];
  for (const t of Array.isArray(type) ? type : type === undefined ? [] : [type]) kinds.add(t === "integer" ? "number" : String(t));
  return [...kinds].sort().join("|");
}

function schemaFields(def: string): Record<string, Field> {
  const schema = DEFS[def] as { properties: Record<string, Schema>; required: readonly string[] };
  return Object.fromEntries(
    Object.entries(schema.properties).map(([name, prop]) => [name, { required: schema.required.includes(name), kinds: schemaKinds(prop) }]),
  );
}

describe("the manifest schema and the Manifest type", () => {
  const fromTypes = typeFields();

  it.each(Object.keys(TYPE_OF_DEF))("$defs.%s has the fields of its type, required alike, of the same kind", (def) => {
    expect(schemaFields(def)).toEqual(fromTypes[def]);
  });

  it("covers every object schema of the manifest, and every IO descriptor kind", () => {
    const objects = Object.entries(DEFS)
      .filter(([, s]) => "properties" in s)
      .map(([name]) => name)
      .sort();
    expect(objects).toEqual(Object.keys(TYPE_OF_DEF).sort());
    const descriptorKinds = Object.keys(TYPE_OF_DEF)
      .filter((d) => d.endsWith("Descriptor"))
      .map((d) => ((DEFS[d] as { properties: { kind: { const: string } } }).properties.kind.const as string) ?? "");
    expect(descriptorKinds.sort()).toEqual([...IO_DESCRIPTOR_KINDS].sort());
  });

  it.each(ALL_MANIFESTS)("the compiled manifest of %s validates", async (name) => {
    const manifest = await loadManifest(name);
    expect(checkManifest(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
  });

  it("is a valid draft 2020-12 schema (the runtime compiles it without ajv's meta-schema check)", () => {
    const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
    const ajv = new Ajv2020({ ...MANIFEST_AJV_OPTIONS, validateSchema: true });
    expect(ajv.validateSchema(MANIFEST_JSON_SCHEMA), JSON.stringify(ajv.errors)).toBe(true);
  });

  it("the hand-built manifests of the tests validate", () => {
    expect(() => checkManifest(JSON.parse(JSON.stringify(echoManifest())))).not.toThrow();
    const k8s = readFileSync(new URL("../../fixtures/k8s/fraud-scorer.json", import.meta.url), "utf8");
    expect(() => parseManifest(k8s)).not.toThrow();
  });
});

describe("a manifest that does not match the schema", () => {
  const valid = (): Manifest => JSON.parse(JSON.stringify(echoManifest())) as Manifest;
  const message = (edit: (m: Record<string, any>) => void): string => {
    const m = valid() as unknown as Record<string, any>;
    edit(m);
    try {
      parseManifest(JSON.stringify(m));
    } catch (err) {
      expect(err).toBeInstanceOf(ManifestError);
      return (err as Error).message;
    }
    throw new Error("accepted");
  };

  it("names a missing field", () => {
    expect(message((m) => delete m["service"].apis[0].route)).toBe("bento.json: /service/apis/0/route: missing required field");
    expect(message((m) => delete m["entry"].bundle)).toBe("bento.json: /entry/bundle: missing required field");
    expect(message((m) => delete m["runners"][0].methods[0].maxBatchSize)).toBe("bento.json: /runners/0/methods/0/maxBatchSize: missing required field");
  });

  it("names a field of the wrong type, an unknown field and a bad descriptor", () => {
    expect(message((m) => (m["service"].apis[0].route = 42))).toBe("bento.json: /service/apis/0/route: must be string");
    expect(message((m) => (m["service"].apis[0].method = "PUT"))).toBe('bento.json: /service/apis/0/method: must be one of "POST", "GET"');
    expect(message((m) => (m["runners"][0].threads = "2"))).toBe("bento.json: /runners/0/threads: must be integer or null");
    expect(message((m) => (m["service"].nmae = "x"))).toBe("bento.json: /service/nmae: unknown field");
    expect(message((m) => (m["service"].apis[0].input.descriptor = { kind: "video" }))).toBe(
      'bento.json: /service/apis/0/input/descriptor/kind: must be one of "json", "text", "ndarray", "image", "file", "multipart"',
    );
    expect(message((m) => (m["service"].apis[0].input.descriptor = { kind: "json", dtype: "float32" }))).toBe(
      "bento.json: /service/apis/0/input/descriptor/dtype: unknown field",
    );
  });

  it("says which schema version it reads, and when the text is not JSON", () => {
    expect(message((m) => (m["schemaVersion"] = 2))).toMatch(/^bento\.json has schemaVersion 2; this bentoc reads 3/);
    expect(() => parseManifest("{ nope", "x/bento.json")).toThrow(/^x\/bento\.json: not JSON/);
  });
});
