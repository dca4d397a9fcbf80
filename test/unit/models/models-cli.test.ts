import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { buildTabular } from "../../../scripts/models/tabular.ts";
import { useTempDirs } from "./temp-home.ts";

const tempDir = useTempDirs();
const entry = fileURLToPath(new URL("./fixtures/models-cli.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/tsx/dist/cli.mjs", import.meta.url));

function bentoc(home: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsx, entry, ...args], { env: { ...process.env, BENTOC_HOME: home }, encoding: "utf8" }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("bentoc models", () => {
  it("save, list, get, export, delete, import", async () => {
    const home = await tempDir();
    const work = await tempDir();
    const onnx = join(work, "model.onnx");
    await writeFile(onnx, buildTabular());
    await writeFile(join(work, "classes.txt"), "a\nb\nc\n");

    const saved = await bentoc(
      home,
      "models",
      "save",
      onnx,
      join(work, "classes.txt"),
      "--name",
      "cli-model",
      "--label",
      "team=ml",
      "--metadata",
      "epochs=12",
      "--metadata",
      "note=hi there",
      "--signature",
      "predict:batchable,batchDim=0",
      "-q",
    );
    expect(saved.stderr).toBe("");
    expect(saved.code).toBe(0);
    const tag = saved.stdout.trim();
    expect(tag).toMatch(/^cli-model:[0-9a-z]{16}$/);

    const list = await bentoc(home, "models", "list", "-o", "json");
    const records = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(records.map((r) => r["tag"])).toEqual([tag]);
    expect(records[0]!["labels"]).toEqual({ team: "ml" });
    expect(records[0]!["metadata"]).toEqual({ epochs: 12, note: "hi there" });
    expect(records[0]!["signatures"]).toEqual({ predict: { batchable: true, batchDim: 0 } });

    const table = await bentoc(home, "models", "list");
    expect(table.stdout.split("\n")[0]).toMatch(/^TAG\s+SIZE\s+LABELS\s+CREATED$/);
    expect(table.stdout).toContain(tag);

    const yaml = parseYaml((await bentoc(home, "models", "get", "cli-model", "-o", "yaml")).stdout) as Record<string, unknown>;
    expect(yaml["tag"]).toBe(tag);
    expect((yaml["files"] as Array<{ path: string }>).map((f) => f.path)).toEqual(["classes.txt", "model.onnx"]);
    const path = (await bentoc(home, "models", "get", `${tag}`, "-o", "path")).stdout.trim();
    expect(path).toBe(join(home, "models", "cli-model", tag.split(":")[1]!));

    const archive = join(work, "m.tar.gz");
    expect((await bentoc(home, "models", "export", tag, archive)).code).toBe(0);
    expect((await bentoc(home, "models", "delete", "cli-model")).stdout).toBe(`deleted ${tag}\n`);
    expect((await bentoc(home, "models", "list")).stdout).toBe("no models\n");
    expect((await bentoc(home, "models", "import", archive)).stdout).toBe(`imported ${tag}\n`);
  });

  it("reports errors on stderr in one line, exit code 1, no stack", async () => {
    const home = await tempDir();
    const missing = await bentoc(home, "models", "get", "nope");
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/^error: model nope not found in .*; the store is empty/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    const badFile = await bentoc(home, "models", "save", join(home, "absent.onnx"), "--name", "x");
    expect(badFile.code).toBe(1);
    // a store error ends with its code (docs/errors.md, command-line codes)
    expect(badFile.stderr).toBe(`error: ${join(home, "absent.onnx")} does not exist [INVALID_INPUT]\n`);

    const badSignature = await bentoc(home, "models", "save", "x.onnx", "--name", "x", "--signature", "run:fast");
    expect(badSignature.code).toBe(1);
    expect(badSignature.stderr).toMatch(/invalid signature option "fast"/);

    const badTag = await bentoc(home, "models", "delete", "Bad/Name");
    expect(badTag.code).toBe(1);
    expect(badTag.stderr).toMatch(/^error: invalid model name "Bad\/Name"/);
  });
});
