import { describe, expect, it } from "vitest";
import { BENTO_ARTIFACT, buildManifest, checkLayersMatchRecord, MODEL_ARTIFACT, parseArtifactManifest } from "../../../runtime/registry/oci-artifact.ts";
import { nextLink, parseChallenge, sha256Digest } from "../../../runtime/registry/registry-client.ts";
import { tlsSettings } from "../../../runtime/registry/registry-tls.ts";

const sha = (s: string) => sha256Digest(Buffer.from(s)).slice(7);

describe("the registry protocol's pieces", () => {
  it("parses WWW-Authenticate challenges", () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/x:pull,push"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:team/x:pull,push" },
    });
    expect(parseChallenge('Basic realm="bentoc-test"')).toEqual({ scheme: "basic", params: { realm: "bentoc-test" } });
    expect(parseChallenge("")).toBeNull();
  });

  it("follows Link rel=next", () => {
    expect(nextLink('</v2/team/x/tags/list?last=b&n=2>; rel="next"')).toBe("/v2/team/x/tags/list?last=b&n=2");
    expect(nextLink("<https://r.example/v2/x/tags/list?last=z&n=1>; rel=next")).toBe("https://r.example/v2/x/tags/list?last=z&n=1");
    expect(nextLink(undefined)).toBeNull();
    expect(nextLink('</x>; rel="prev"')).toBeNull();
  });

  it("--insecure only for loopback registries; a missing CA file is named", () => {
    expect(() => tlsSettings("registry.example:5000", { insecure: true })).toThrow(
      "--insecure is allowed only for a registry on this machine (localhost, 127.0.0.1, [::1]), not registry.example:5000",
    );
    expect(tlsSettings("127.0.0.1:5000", { insecure: true })).toMatchObject({ rejectUnauthorized: false, insecure: true });
    expect(tlsSettings("[::1]:5000", { insecure: true }).insecure).toBe(true);
    expect(() => tlsSettings("r.example", { caFile: "/no/such/ca.pem" })).toThrow("cannot read the CA file /no/such/ca.pem: ENOENT");
  });
});

describe("the artifact layout", () => {
  const record = Buffer.from('{"tag":"m:1"}\n');
  const files = [
    { path: "tokenizer.json", size: 3, sha256: sha("tok") },
    { path: "model.onnx", size: 4, sha256: sha("onnx") },
  ];
  const bytes = buildManifest(MODEL_ARTIFACT, record, files, { "dev.bentoc.tag": "m:1", "a.first": "x" });

  it("is one deterministic OCI manifest: empty config, the record first, then the files by path", () => {
    expect(buildManifest(MODEL_ARTIFACT, record, [...files].reverse(), { "a.first": "x", "dev.bentoc.tag": "m:1" })).toEqual(bytes);
    const m = JSON.parse(bytes.toString()) as {
      artifactType: string;
      config: { mediaType: string; size: number };
      layers: { annotations: Record<string, string>; digest: string }[];
      annotations: object;
    };
    expect(m.artifactType).toBe("application/vnd.bentoc.model.v1");
    expect(m.config).toMatchObject({ mediaType: "application/vnd.oci.empty.v1+json", size: 2 });
    expect(m.layers.map((l) => l.annotations["org.opencontainers.image.title"])).toEqual(["model.json", "model.onnx", "tokenizer.json"]);
    expect(m.layers[1]?.digest).toBe(`sha256:${sha("onnx")}`);
    expect(Object.keys(m.annotations)).toEqual(["a.first", "dev.bentoc.tag"]);
    const parsed = parseArtifactManifest(bytes, MODEL_ARTIFACT, "r.example/m:1");
    expect(() => checkLayersMatchRecord(parsed, files, "r.example/m:1")).not.toThrow();
  });

  it("refuses the wrong kind, images, unsafe paths, and layers that differ from the record", () => {
    expect(() => parseArtifactManifest(bytes, BENTO_ARTIFACT, "r/x:1")).toThrow("r/x:1 holds a bentoc model, not a bento: pull it with `bentoc models pull`");
    const image = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: {}, layers: [] }));
    expect(() => parseArtifactManifest(image, MODEL_ARTIFACT, "r/x:1")).toThrow("it has no artifactType (a container image?)");
    const unsafe = JSON.parse(bytes.toString());
    unsafe.layers[1].annotations["org.opencontainers.image.title"] = "../escape";
    expect(() => parseArtifactManifest(Buffer.from(JSON.stringify(unsafe)), MODEL_ARTIFACT, "r/x:1")).toThrow("unsafe path");
    const parsed = parseArtifactManifest(bytes, MODEL_ARTIFACT, "r/x:1");
    expect(() => checkLayersMatchRecord(parsed, [files[0]!], "r/x:1")).toThrow("layers the record does not list: model.onnx");
    expect(() => checkLayersMatchRecord(parsed, [files[0]!, { ...files[1]!, sha256: sha("other") }], "r/x:1")).toThrow("file model.onnx has layer");
    expect(() => checkLayersMatchRecord(parsed, [...files, { path: "extra", size: 1, sha256: sha("e") }], "r/x:1")).toThrow("file extra has no layer");
  });
});
