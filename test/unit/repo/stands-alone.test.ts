/**
 * The repository stands alone: a user's clone has nothing beside it. No tracked file may reach outside
 * the repo — neither the workspace's sibling folder of shared assets nor absolute paths of this machine —
 * and the first design document is superseded by docs/architecture.md, which must exist.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
// Built from parts so that this file does not match itself.
const FORBIDDEN = [["..", "shared"].join("/"), ["shared", "assets"].join("/"), ["DESIGN", "md"].join("."), ["", "work", "main"].join("/")];
const BINARY = /\.(png|jpe?g|onnx|tgz|gz|ico|woff2?)$/i;

function trackedFiles(): string[] {
  return execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && !BINARY.test(f) && existsSync(join(root, f)));
}

describe("the repository stands alone", () => {
  it("no file refers to a path outside the repository", () => {
    const hits: string[] = [];
    for (const file of trackedFiles()) {
      const text = readFileSync(join(root, file), "utf8");
      for (const needle of FORBIDDEN) {
        const at = text.indexOf(needle);
        if (at >= 0) hits.push(`${file}:${text.slice(0, at).split("\n").length}: ${needle}`);
      }
    }
    expect(hits).toEqual([]);
  });

  it("carries its own architecture document", () => {
    expect(existsSync(join(root, "docs", "architecture.md"))).toBe(true);
  });
});
