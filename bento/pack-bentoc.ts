/**
 * `bentoc` itself as a deterministic npm tarball (`bentoc-<version>.tgz`), so a bento's image installs the
 * exact runtime it was built with, offline from the build context. It holds what `npm pack` would: the
 * package.json's `files` whitelist (the compiled `dist/`) plus README and LICENSE, with a package.json
 * without dev dependencies or scripts, fixed mtimes and sorted entries: the same build gives the same bytes
 * (and the same integrity in the bento's package-lock.json, so the dependency layer stays cached).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { create } from "tar";
import { type BentocPackageJson, bentocRoot } from "../contract/package-root.ts";

export type { BentocPackageJson } from "../contract/package-root.ts";

/** Files npm packs whatever `files` says (when present). */
const TOP_FILES = ["README.md", "LICENSE", "NOTICE"];
/** Never packed, as npm: dependencies, VCS and editor droppings, npm's own config. */
const SKIP = /(^|\/)(node_modules|\.git|\.bentoc|\.tmp|\.DS_Store|\.npmrc|npm-debug\.log)(\/|$)|(^|\/)[^/]*\.swp$/;
const NPM_MTIME = new Date("1985-10-26T08:15:00Z");

export interface PackedBentoc {
  /** `bentoc-<version>.tgz`. */
  fileName: string;
  /** Subresource integrity (`sha512-…`) of the tarball, as npm records it. */
  integrity: string;
  /** The package.json inside the tarball. */
  manifest: BentocPackageJson;
}

async function walk(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = `${rel}/${d.name}`;
    if (SKIP.test(p)) continue;
    if (d.isDirectory()) out.push(...(await walk(root, p)));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

export async function readBentocPackageJson(root: string = bentocRoot()): Promise<BentocPackageJson> {
  return JSON.parse(await readFile(join(root, "package.json"), "utf8")) as BentocPackageJson;
}

/** The package.json that goes into the tarball: what a consumer needs, nothing for development. */
function publishedManifest(pkg: BentocPackageJson): BentocPackageJson {
  const keep = ["name", "version", "description", "license", "type", "bin", "exports", "types", "files", "engines", "dependencies", "optionalDependencies"];
  return Object.fromEntries(keep.filter((k) => pkg[k] !== undefined).map((k) => [k, pkg[k]])) as BentocPackageJson;
}

/** The package's files (paths relative to `root`) that its `files` whitelist names, as `npm pack` takes them. */
export async function whitelistedFiles(root: string, pkg: BentocPackageJson): Promise<string[]> {
  const entries = pkg.files;
  if (!Array.isArray(entries) || entries.length === 0)
    throw new Error(`${join(root, "package.json")} has no "files" whitelist; bentoc packs only what it names`);
  const out: string[] = [];
  for (const entry of entries) {
    const rel = entry.replace(/^\.\//, "").replace(/\/+$/, "");
    if (/[*?[\]!]/.test(rel) || rel.split("/").includes(".."))
      throw new Error(`package.json "files" entry "${entry}": only plain paths inside the package are supported`);
    const stat = await lstat(join(root, rel)).catch(() => undefined);
    if (!stat) throw new Error(`bentoc's "${rel}" is missing in ${root}; build it first (npm run build)`);
    if (stat.isDirectory()) out.push(...(await walk(root, rel)));
    else if (stat.isFile()) out.push(rel);
  }
  return out;
}

/** Writes `bentoc-<version>.tgz` into `destDir`. */
export async function packBentoc(destDir: string, root: string = bentocRoot()): Promise<PackedBentoc> {
  const pkg = await readBentocPackageJson(root);
  const manifest = publishedManifest(pkg);
  const packed = await whitelistedFiles(root, pkg);
  const staging = join(destDir, `.bentoc-pack-${process.pid}-${Date.now().toString(36)}`);
  const files = ["package.json"];
  try {
    await mkdir(join(staging, "package"), { recursive: true });
    await writeFile(join(staging, "package", "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const f of TOP_FILES) if (existsSync(join(root, f)) && !packed.includes(f)) files.push(f);
    files.push(...packed);
    for (const f of files.slice(1)) {
      const dest = join(staging, "package", ...f.split("/"));
      const content = await readFile(join(root, ...f.split("/"))).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return null; // removed while packing (an editor's temp file)
        throw err;
      });
      if (content === null) {
        files.splice(files.indexOf(f), 1);
        continue;
      }
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, content);
    }
    const sorted = files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((f) => `package/${f}`);
    const fileName = `bentoc-${manifest.version}.tgz`;
    const tgz = join(destDir, fileName);
    await create({ gzip: { level: 9 }, file: tgz, cwd: staging, portable: true, mtime: NPM_MTIME, noDirRecurse: true }, sorted);
    const integrity = `sha512-${createHash("sha512")
      .update(await readFile(tgz))
      .digest("base64")}`;
    return { fileName, integrity, manifest };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
