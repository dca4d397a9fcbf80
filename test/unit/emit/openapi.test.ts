import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { emitOpenApi } from "../../../compiler/emit/openapi/emit-openapi.ts";
import { ERROR_CODES_EXTENSION } from "../../../compiler/emit/openapi/error-responses.ts";
import { codesByStatus, ERROR_CATALOGUE } from "../../../contract/error-catalogue.ts";
import { ALL_MANIFESTS, loadManifest, type ManifestName } from "./load-manifests.ts";

type AnyDoc = Record<string, any>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

async function docOf(name: ManifestName): Promise<AnyDoc> {
  return JSON.parse(emitOpenApi(await loadManifest(name))) as AnyDoc;
}

/** An ajv 2020-12 instance holding the whole document, so `#/components/schemas/X` refs resolve. */
function ajvFor(doc: AnyDoc) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("binary", true);
  ajv.addVocabulary(["openapi", "info", "paths", "components", "tags", "jsonSchemaDialect"]);
  ajv.addSchema(doc, "https://bentoc.test/openapi.json");
  // Every component schema must compile on its own (a bad keyword or dangling ref fails here).
  for (const name of Object.keys(doc["components"]["schemas"])) {
    expect(ajv.getSchema(`https://bentoc.test/openapi.json#/components/schemas/${name}`), name).toBeTypeOf("function");
  }
  const pointer = (...tokens: string[]) => tokens.map((t) => t.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
  return {
    request(route: string, media: string, method = "post") {
      const v = ajv.getSchema(`https://bentoc.test/openapi.json#/${pointer("paths", route, method, "requestBody", "content", media, "schema")}`);
      if (!v) throw new Error(`no request schema for ${route} ${media}`);
      return v;
    },
    response(route: string, media: string, method = "post") {
      const v = ajv.getSchema(`https://bentoc.test/openapi.json#/${pointer("paths", route, method, "responses", "200", "content", media, "schema")}`);
      if (!v) throw new Error(`no response schema for ${route} ${media}`);
      return v;
    },
    component(name: string) {
      const v = ajv.getSchema(`https://bentoc.test/openapi.json#/components/schemas/${name}`);
      if (!v) throw new Error(`no component ${name}`);
      return v;
    },
  };
}

describe("emitOpenApi", () => {
  it.each(ALL_MANIFESTS)("%s passes an independent OpenAPI 3.1 validator", async (name) => {
    const validator = new Validator();
    const result = await validator.validate(await docOf(name));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it.each(ALL_MANIFESTS)("%s is byte-for-byte deterministic, whatever the key order of the manifest", async (name) => {
    const manifest = await loadManifest(name);
    const once = emitOpenApi(manifest);
    expect(emitOpenApi(await loadManifest(name))).toBe(once);
    const shuffled = { ...manifest, $defs: Object.fromEntries(Object.entries(manifest.$defs).reverse()) };
    expect(emitOpenApi(shuffled)).toBe(once);
    expect(once.endsWith("}\n")).toBe(true);
    expect(once).not.toContain("#/$defs/");
  });

  it("support-tickets: one operation per API with info, tags and examples", async () => {
    const doc = await docOf("support-tickets");
    expect(doc["openapi"]).toBe("3.1.0");
    expect(doc["info"]).toEqual({
      title: "support-tickets",
      version: "1.0.0",
      description: "Routes support tickets to the right team: an embedding runner, then a classifier runner.",
    });
    expect(Object.keys(doc["paths"])).toEqual(["/classify", "/classify-text", "/classify-ticket", "/labels", "/livez", "/readyz"]);
    const classify = doc["paths"]["/classify"]["post"];
    expect(classify.operationId).toBe("classify");
    expect(classify.summary).toBe("Classify tickets: a label and its score per text, in input order.");
    expect(classify.requestBody.content["application/json"].examples.example1.value).toEqual({ texts: ["refund needed", "cannot log in"] });
    expect(doc["paths"]["/classify-ticket"]["post"].requestBody.content["application/json"].examples.example1.value).toEqual({
      text: "I was charged twice for my subscription this month",
      id: "T-1001",
    });
    expect(doc["paths"]["/classify-text"]["post"].requestBody.content).toHaveProperty("text/plain");
    const labels = doc["paths"]["/labels"]["get"];
    expect(labels.requestBody).toBeUndefined();
    expect(labels.parameters).toBeUndefined();
    expect(doc["paths"]["/livez"]["get"].tags).toEqual(["health"]);
    expect(doc["paths"]["/readyz"]["get"].responses["503"]).toEqual({ $ref: "#/components/responses/ServiceUnavailable" });
    expect(Object.keys(doc["components"]["schemas"]).sort()).toEqual([
      "Classification",
      "ClassifyRequest",
      "ClassifyResponse",
      "Error",
      "Scores",
      "Ticket",
      "TicketClassification",
    ]);
  });

  it("support-tickets: schemas accept real payloads and reject wrong ones", async () => {
    const doc = await docOf("support-tickets");
    const v = ajvFor(doc);
    const texts = v.request("/classify", "application/json");
    expect(texts({ texts: ["I was charged twice", "cannot log in"] })).toBe(true);
    expect(texts({ texts: [] })).toBe(false); // minItems 1
    expect(texts({ texts: Array(65).fill("x") })).toBe(false); // maxItems 64
    expect(texts({ texts: ["ok", ""] })).toBe(false); // items: minLength 1 (from the TicketText alias)
    expect(texts({ texts: ["x".repeat(4001)] })).toBe(false); // items: maxLength 4000
    expect(texts({ texts: [42] })).toBe(false);
    expect(texts({ text: "one" })).toBe(false);
    for (const example of Object.values<any>(doc["paths"]["/classify"]["post"].requestBody.content["application/json"].examples)) {
      expect(texts(example.value)).toBe(true);
    }
    const ticket = v.request("/classify-ticket", "application/json");
    expect(ticket({ text: "I was charged twice", id: "T-1" })).toBe(true);
    expect(ticket({ text: "" })).toBe(false); // minLength 1
    expect(ticket({ text: 42 })).toBe(false);
    expect(ticket({ id: "T-1" })).toBe(false); // text is required
    expect(ticket({ text: "x", extra: true })).toBe(false);
    const out = v.response("/classify", "application/json");
    const scores = { billing: 0.7, bug: 0.1, account: 0.1, other: 0.1 };
    expect(out({ results: [{ label: "billing", score: 0.7, scores }] })).toBe(true);
    expect(out({ results: [{ label: "refund", score: 0.7, scores }] })).toBe(false);
    expect(out({ results: [{ label: "bug", score: 0.7, scores: { billing: 1 } }] })).toBe(false);
    expect(out({ results: [{ label: "billing", scores }] })).toBe(false); // score is required
    expect(v.response("/classify-ticket", "application/json")({ label: "billing", score: 0.7, scores, id: "T-1" })).toBe(true);
    const labels = v.response("/labels", "application/json", "get");
    expect(labels(["billing", "bug"])).toBe(true);
    expect(labels(["nope"])).toBe(false);
    expect(v.request("/classify-text", "text/plain")("some text")).toBe(true);
  });

  it("every operation documents the catalogue's error responses, each status with its codes, with one Error schema", async () => {
    const doc = await docOf("edge-cases");
    const statuses = [...codesByStatus().keys()].map(String);
    expect(statuses).toEqual(["400", "401", "403", "404", "405", "408", "413", "415", "429", "431", "500", "502", "503", "504"]);
    for (const [route, item] of Object.entries<any>(doc["paths"])) {
      if (route === "/livez" || route === "/readyz") continue;
      for (const op of Object.values<any>(item)) {
        expect(Object.keys(op.responses).sort(), `${route}`).toEqual(["200", ...statuses]);
      }
    }
    const responses = doc["components"]["responses"];
    const documented = new Map<string, string>();
    for (const [status, codes] of codesByStatus()) {
      const name = Object.keys(responses).find((n) => responses[n][ERROR_CODES_EXTENSION].includes(codes[0]));
      const response = responses[name!];
      expect(response[ERROR_CODES_EXTENSION], `status ${status}`).toEqual(codes);
      for (const code of codes) {
        expect(response.description).toContain(`\`${code}\``);
        documented.set(code, String(status));
      }
      expect(response.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    }
    // Every code of the catalogue is documented under its own status, and no other code is.
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(Object.entries(ERROR_CATALOGUE).map(([c, e]) => [c, String(e.status)])));
    expect(responses["TooManyRequests"].headers["retry-after"]).toBeDefined();
    expect(responses["MethodNotAllowed"].headers["allow"]).toBeDefined();
    const v = ajvFor(doc);
    const error = v.component("Error");
    expect(error({ error: "bad", code: "invalid_input", detail: [{ path: "/a", message: "m" }], requestId: "r1" })).toBe(true);
    expect(error({ error: "bad", code: "invalid_input" })).toBe(false); // requestId required
    expect(error({ error: 1, code: "x", requestId: "r" })).toBe(false);
    for (const response of Object.values<any>(responses)) {
      for (const example of Object.values<any>(response.content["application/json"].examples)) expect(error(example.value)).toBe(true);
    }
  });

  it("tabular: NdArray in JSON and binary form, with x-dtype/x-shape", async () => {
    const doc = await docOf("tabular");
    const op = doc["paths"]["/predict"]["post"];
    expect(Object.keys(op.requestBody.content)).toEqual(["application/json", "application/octet-stream"]);
    expect(op.requestBody.content["application/octet-stream"].schema).toEqual({ type: "string", format: "binary" });
    expect(op.parameters.map((p: any) => `${p.in}:${p.name}`)).toEqual(["header:x-dtype", "header:x-shape"]);
    expect(Object.keys(op.responses["200"].headers).sort()).toEqual(["x-dtype", "x-request-id", "x-shape"]);
    const v = ajvFor(doc);
    const input = v.request("/predict", "application/json");
    const row = [1, 2, 3, 4, 5, 6, 7, 8];
    expect(input({ dtype: "float32", shape: [1, 8], data: row })).toBe(true);
    expect(input({ dtype: "float32", shape: [0, 8], data: [] })).toBe(true);
    expect(input({ shape: [1, 8], data: row })).toBe(true); // dtype fixed by the descriptor may be left out
    expect(input({ dtype: "float32", data: row })).toBe(false);
    expect(input({ dtype: "float64", shape: [1, 8], data: row })).toBe(false); // dtype fixed
    expect(input({ dtype: "float32", shape: [1, 7], data: row })).toBe(false); // second dim is 8
    expect(input({ dtype: "float32", shape: [8], data: row })).toBe(false); // rank 2
    expect(input({ dtype: "float32", shape: [1, 8], data: ["a"] })).toBe(false);
    const output = v.response("/predict", "application/json");
    expect(output({ dtype: "float32", shape: [1, 3], data: [0.2, 0.3, 0.5] })).toBe(true);
    expect(output({ dtype: "int32", shape: [1, 3], data: [0, 0, 1] })).toBe(false);
  });

  it("ocr: an image body as PNG or JPEG, and a JSON result with tuple boxes", async () => {
    const doc = await docOf("ocr");
    const op = doc["paths"]["/read"]["post"];
    expect(Object.keys(op.requestBody.content)).toEqual(["image/jpeg", "image/png"]);
    const v = ajvFor(doc);
    const out = v.response("/read", "application/json");
    const p = { x: 1, y: 2 };
    expect(out({ width: 10, height: 5, lines: [{ text: "hi", confidence: 0.9, box: [p, p, p, p] }] })).toBe(true);
    expect(out({ width: 10, height: 5, lines: [{ text: "hi", confidence: 1.5, box: [p, p, p, p] }] })).toBe(false);
    expect(out({ width: 10, height: 5, lines: [{ text: "hi", confidence: 0.5, box: [p, p, p] }] })).toBe(false);
  });

  it("edge cases: every IO kind, GET query input, recursive and renamed schemas", async () => {
    const doc = await docOf("edge-cases");
    const paths = doc["paths"];
    expect(paths["/shout"].post.requestBody.content["text/plain"].examples).toEqual({ example1: { value: "hello" } });
    expect(Object.keys(paths["/shout"].post.responses["200"].content)).toEqual(["text/plain"]);
    expect(Object.keys(paths["/thumbnail"].post.responses["200"].content)).toEqual(["image/png"]);
    expect(Object.keys(paths["/convert"].post.requestBody.content)).toEqual(["application/pdf"]);
    expect(Object.keys(paths["/convert"].post.responses["200"].content)).toEqual(["application/octet-stream"]);
    const multipart = paths["/annotate"].post.requestBody.content["multipart/form-data"];
    expect(Object.keys(multipart.schema.properties)).toEqual(["photo", "meta", "note", "weights", "attachment"]);
    expect(multipart.schema.required).toEqual(["photo", "meta", "weights"]);
    expect(multipart.encoding).toEqual({
      photo: { contentType: "image/jpeg" },
      meta: { contentType: "application/json" },
      weights: { contentType: "application/json" },
      attachment: { contentType: "application/octet-stream" },
    });
    expect(paths["/status"].get.parameters).toBeUndefined();
    expect(paths["/ping"].post.requestBody).toBeUndefined();
    const search = paths["/search"].get;
    expect(search.requestBody).toBeUndefined();
    expect(search.parameters.map((p: any) => [p.name, p.in, p.required])).toEqual([
      ["q", "query", true],
      ["limit", "query", false],
      ["priority", "query", false],
    ]);
    expect(search.parameters[2].schema).toEqual({ $ref: "#/components/schemas/Priority" });

    const v = ajvFor(doc);
    const order = v.request("/orders", "application/json");
    const example = paths["/orders"].post.requestBody.content["application/json"].examples.example1.value;
    expect(order(example)).toBe(true);
    const deep = { name: "a", children: [{ name: "b", children: [{ name: "c", children: [] }] }] };
    expect(order({ ...example, category: deep })).toBe(true);
    expect(order({ ...example, category: { name: "a", children: [{ name: 3, children: [] }] } })).toBe(false);
    expect(order({ ...example, priority: "urgent" })).toBe(false);
    expect(order({ ...example, location: ["a", 1, 2] })).toBe(false);
    expect(order({ ...example, tags: { a: 1.5 } })).toBe(false);
    expect(order({ ...example, createdAt: "yesterday" })).toBe(false);
    expect(order({ ...example, payment: { kind: "invoice", dueDays: 30 } })).toBe(true);
    expect(order({ ...example, payment: { kind: "cash" } })).toBe(false);
    const page = v.response("/orders", "application/json");
    expect(page({ items: [example] })).toBe(true);
    expect(page({ items: [{}] })).toBe(false);
    const scaled = v.response("/scale", "application/json");
    expect(scaled({ dtype: "int64", shape: [2, 3], data: [1, 2, 3, 4, 5, 6] })).toBe(true);
    expect(scaled({ dtype: "int64", shape: [2, 3], data: [1.5] })).toBe(false);
    const anyArray = v.request("/scale", "application/json");
    expect(anyArray({ dtype: "bool", shape: [2], data: [true, false] })).toBe(true);
    expect(anyArray({ dtype: "complex64", shape: [1], data: [1] })).toBe(false);
    expect(anyArray({ shape: [1], data: [1] })).toBe(false); // no dtype in the descriptor: required
  });
});
