import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { authFiles, findCredentials, normaliseAuthKey } from "../../../runtime/registry/credentials.ts";

const root = mkdtempSync(join(tmpdir(), "bentoc-creds-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString("base64");

function home(name: string, files: Record<string, unknown>): NodeJS.ProcessEnv {
  const dir = join(root, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), typeof content === "string" ? content : JSON.stringify(content));
  }
  return { HOME: dir, PATH: process.env["PATH"] ?? "" };
}

describe("registry credentials", () => {
  it("looks in --authfile alone, else REGISTRY_AUTH_FILE, podman's run-time and config auth.json, then docker's config.json", () => {
    expect(authFiles({ authFile: "/x/auth.json" })).toEqual(["/x/auth.json"]);
    expect(authFiles({ env: { HOME: "/h", REGISTRY_AUTH_FILE: "/a.json", XDG_RUNTIME_DIR: "/run/user/1" } })).toEqual([
      "/a.json",
      "/run/user/1/containers/auth.json",
      "/h/.config/containers/auth.json",
      "/h/.docker/config.json",
    ]);
    expect(authFiles({ env: { HOME: "/h", DOCKER_CONFIG: "/d", XDG_CONFIG_HOME: "/c" } })).toEqual(["/c/containers/auth.json", "/d/config.json"]);
  });

  it("normalises docker's keys", () => {
    expect(normaliseAuthKey("https://registry.example:5000/v1/")).toBe("registry.example:5000");
    expect(normaliseAuthKey("http://r.example/v2/")).toBe("r.example");
    expect(normaliseAuthKey("https://index.docker.io/v1/")).toBe("docker.io");
    expect(normaliseAuthKey("r.example/team/")).toBe("r.example/team");
  });

  it("decodes base64 auth (a password may hold ':'), takes username/password and identity tokens, the most specific key first", () => {
    const env = home("a", {
      ".config/containers/auth.json": {
        auths: {
          "r.example:5000": { auth: b64("alice:pa:ss") },
          "r.example:5000/team": { auth: b64("team-bot:t0k") },
          "other.example": { username: "bob", password: "pw" },
          "oauth.example": { identitytoken: "refresh-me" },
        },
      },
    });
    expect(findCredentials("r.example:5000", "x/model", { env })).toMatchObject({ username: "alice", password: "pa:ss" });
    expect(findCredentials("r.example:5000", "team/model", { env })).toMatchObject({ username: "team-bot", password: "t0k" });
    expect(findCredentials("other.example", "m", { env })).toMatchObject({ username: "bob", password: "pw" });
    expect(findCredentials("oauth.example", "m", { env })).toMatchObject({ identityToken: "refresh-me" });
    expect(findCredentials("unknown.example", "m", { env })).toBeNull();
  });

  it("podman's files come before docker's; REGISTRY_AUTH_FILE before both", () => {
    const env = home("b", {
      ".docker/config.json": { auths: { "https://r.example/v1/": { auth: b64("docker:1") } } },
      ".config/containers/auth.json": { auths: { "r.example": { auth: b64("podman:2") } } },
      "explicit.json": { auths: { "r.example": { auth: b64("explicit:3") } } },
    });
    expect(findCredentials("r.example", "m", { env })?.username).toBe("podman");
    expect(findCredentials("r.example", "m", { env: { ...env, REGISTRY_AUTH_FILE: join(root, "b", "explicit.json") } })?.username).toBe("explicit");
    const dockerOnly = home("c", { ".docker/config.json": { auths: { "https://r.example/v1/": { auth: b64("docker:1") } } } });
    expect(findCredentials("r.example", "m", { env: dockerOnly })).toMatchObject({ username: "docker", source: join(root, "c", ".docker", "config.json") });
  });

  it("asks docker-credential-<helper> (credHelpers, then credsStore)", () => {
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    const helper = join(bin, "docker-credential-testhelper");
    writeFileSync(
      helper,
      `#!/bin/sh\nread host\nif [ "$host" = "helped.example" ]; then echo '{"ServerURL":"helped.example","Username":"h","Secret":"s3"}'; else echo "credentials not found in native keychain"; exit 1; fi\n`,
    );
    chmodSync(helper, 0o755);
    const env = {
      ...home("d", { ".docker/config.json": { auths: {}, credHelpers: { "helped.example": "testhelper" } } }),
      PATH: `${bin}:${process.env["PATH"] ?? ""}`,
    };
    expect(findCredentials("helped.example", "m", { env })).toMatchObject({ username: "h", password: "s3", source: "docker-credential-testhelper" });
    const store = { ...home("e", { ".docker/config.json": { credsStore: "testhelper" } }), PATH: env.PATH };
    expect(findCredentials("elsewhere.example", "m", { env: store })).toBeNull();
  });

  it("an unreadable auth file is an error naming it", () => {
    const env = home("f", { ".docker/config.json": "{ not json" });
    expect(() => findCredentials("r.example", "m", { env })).toThrow(`cannot read the registry auth file ${join(root, "f", ".docker", "config.json")}`);
  });
});
