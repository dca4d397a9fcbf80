import { describe, expect, it } from "vitest";
import { formatReference, isLoopbackRegistry, parseReference } from "../../../runtime/registry/image-reference.ts";
import { pullReference, pushReference } from "../../../runtime/registry/model-remote.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("OCI references", () => {
  it.each([
    [
      "registry.example:5000/team/support-tickets-minilm:01m8a2jdx011dem0",
      { registry: "registry.example:5000", repository: "team/support-tickets-minilm", tag: "01m8a2jdx011dem0" },
    ],
    ["127.0.0.1:5000/a/b/c", { registry: "127.0.0.1:5000", repository: "a/b/c" }],
    ["localhost/x", { registry: "localhost", repository: "x" }],
    ["[::1]:5000/team/x:v1", { registry: "[::1]:5000", repository: "team/x", tag: "v1" }],
    [`ghcr.io/org/m@${DIGEST}`, { registry: "ghcr.io", repository: "org/m", digest: DIGEST }],
    [`ghcr.io/org/m:v2@${DIGEST}`, { registry: "ghcr.io", repository: "org/m", tag: "v2", digest: DIGEST }],
    ["r.example/a__b/c-d.e_f:latest", { registry: "r.example", repository: "a__b/c-d.e_f", tag: "latest" }],
  ])("parses %s", (ref, expected) => {
    expect(parseReference(ref)).toEqual(expected);
    expect(formatReference(parseReference(ref))).toBe(ref);
  });

  it.each([
    ["team/x:v1", "must start with a registry host"],
    ["support-tickets", "must start with a registry host"],
    ["https://r.example/x", "without a scheme"],
    ["r.example/Team/x", "invalid repository"],
    ["r.example/x:-v", "invalid tag"],
    ["r.example/x@sha256:abc", "the digest must be sha256"],
    ["r.example/x//y", "invalid repository"],
    ["r.example/", "invalid repository"],
    ["bad_host.example/x", "not a valid registry host"],
  ])("refuses %s", (ref, why) => {
    expect(() => parseReference(ref)).toThrow(why);
  });

  it("push defaults the tag and refuses digests; pull needs a tag or a digest", () => {
    expect(pushReference("r.example/x", "01m8").tag).toBe("01m8");
    expect(pushReference("r.example/x:stable", "01m8").tag).toBe("stable");
    expect(() => pushReference(`r.example/x@${DIGEST}`, "v")).toThrow("push to a tag, not a digest");
    expect(pullReference(`r.example/x@${DIGEST}`).reference).toBe(DIGEST);
    expect(pullReference("r.example/x:v1").reference).toBe("v1");
    expect(() => pullReference("r.example/x")).toThrow("names no tag or digest");
  });

  it("loopback registries are localhost, 127.0.0.1 and [::1], whatever the port", () => {
    for (const r of ["localhost", "localhost:5000", "127.0.0.1:443", "[::1]:5000"]) expect(isLoopbackRegistry(r)).toBe(true);
    for (const r of ["127.0.0.2:5000", "registry.example", "10.0.0.1:5000", "localhost.example.com"]) expect(isLoopbackRegistry(r)).toBe(false);
  });
});
