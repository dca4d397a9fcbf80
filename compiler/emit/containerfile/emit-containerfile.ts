/**
 * Containerfile emitter: a multi-stage image of a bento, layers ordered for the build cache so that a
 * code-only change rebuilds only the last layer:
 *
 *   deps stage   package.json + package-lock.json → `npm ci --omit=dev`
 *   final stage  (system packages, setup script, env) → node_modules → models/ → code (bento.json, openapi.json, bundle)
 *
 * Every RUN is exec-form (JSON array): the base image needs `node`, not a shell. The build context is the
 * bento directory; its layout is documented in docs/kubernetes.md. Returns `Containerfile` and
 * `.containerignore`; deterministic bytes.
 */
import { RUN_AS_USER } from "../../../contract/container-security.ts";
import { MANIFEST_FILE, OPENAPI_FILE } from "../../../contract/output-files.ts";
import { SERVER_ROUTES } from "../../../contract/server-routes.ts";
import { DEFAULT_API_PORT } from "../../../contract/shared-defaults.ts";
import type { Manifest } from "../../../sdk/manifest.ts";

export interface EmitContainerfileOptions {
  /** Default base image (overridable at build time with `--build-arg BASE_IMAGE=…`). */
  baseImage?: string;
  /** Node major version of the default base image (default 20); ignored when `baseImage` is set. */
  nodeVersion?: string;
  /** Debian packages installed with apt-get (exec-form, so the base must have apt-get). */
  systemPackages?: string[];
  /** Extra environment of the serving image. */
  env?: Record<string, string>;
  /** Path of an executable script inside the bento, run once at build time (needs its interpreter in the base). */
  setupScript?: string;
  /**
   * How `node_modules` gets into the image: `npm-ci` (default) installs from the lock file in a deps stage;
   * `copy` takes a `node_modules/` the bento already carries (offline builds).
   */
  dependencies?: "npm-ci" | "copy";
  /** npm's CLI inside the base image, run with node (no shell, no /usr/bin/env needed). */
  npmCli?: string;
  /**
   * Package tarballs inside the bento that package.json references as `file:./x.tgz` (e.g. bentoc itself):
   * copied beside package.json in the deps stage, so they belong to the cached dependency layer.
   */
  localPackages?: string[];
  /** Data files the bento carries for the service (bentofile `include`), copied with the code layer. */
  files?: string[];
}

/** Alias used by compiler/emit/emit-all.ts. */
export type ContainerfileOptions = EmitContainerfileOptions;

export const BENTO_DIR = "/bento";
export const PORT = DEFAULT_API_PORT;
export { RUN_AS_USER };
export const DEFAULT_NODE_VERSION = "20";
export const DEFAULT_NPM_CLI = "/usr/local/lib/node_modules/npm/bin/npm-cli.js";
export const BENTOC_CLI = "/bento/node_modules/bentoc/dist/cli/bentoc.js";
export const HEALTHCHECK_SCRIPT = `fetch('http://127.0.0.1:${PORT}${SERVER_ROUTES.ready}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;

export class ContainerfileError extends Error {
  override name = "ContainerfileError";
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$/;

function execForm(args: readonly string[]): string {
  return `[${args.map((a) => JSON.stringify(a)).join(", ")}]`;
}

/** A value for `ENV KEY=value`, quoted so spaces, quotes and `$` survive. */
function envValue(value: string): string {
  return /^[A-Za-z0-9_./:@%+,-]*$/.test(value) && value !== "" ? value : JSON.stringify(value).replace(/\$/g, "\\$");
}

function envLine(pairs: readonly [string, string][]): string {
  for (const [k] of pairs) if (!ENV_NAME.test(k)) throw new ContainerfileError(`invalid environment variable name "${k}"`);
  return `ENV ${pairs.map(([k, v]) => `${k}=${envValue(v)}`).join(" \\\n    ")}`;
}

/** A path inside the bento: relative, normalised, no `..`. */
function bentoPath(path: string, what: string): string {
  const clean = path.replace(/^\.\//, "");
  if (clean === "" || clean.startsWith("/") || clean.split("/").some((p) => p === ".." || p === "." || p === "") || /[\s"'\\$*?[\]]/.test(clean)) {
    throw new ContainerfileError(`${what} "${path}" must be a plain relative path inside the bento`);
  }
  return clean;
}

export function emitContainerfile(manifest: Manifest, options: EmitContainerfileOptions = {}): Record<string, string> {
  const nodeVersion = options.nodeVersion ?? DEFAULT_NODE_VERSION;
  if (!/^\d+(\.\d+){0,2}$/.test(nodeVersion)) throw new ContainerfileError(`invalid node version "${nodeVersion}"`);
  const baseImage = options.baseImage ?? `docker.io/library/node:${nodeVersion}-bookworm-slim`;
  const npmCli = options.npmCli ?? DEFAULT_NPM_CLI;
  const mode = options.dependencies ?? "npm-ci";
  const bundle = bentoPath(manifest.entry.bundle, "bundle");
  const packages = [...(options.systemPackages ?? [])].sort();
  for (const p of packages) if (!PACKAGE_NAME.test(p)) throw new ContainerfileError(`invalid system package name "${p}"`);
  const setup = options.setupScript === undefined ? undefined : bentoPath(options.setupScript, "setup script");
  const localPackages = [...(options.localPackages ?? [])].map((p) => bentoPath(p, "local package")).sort();
  const dataFiles = [...(options.files ?? [])].map((p) => bentoPath(p, "file")).sort();
  const svc = manifest.service;

  const lines: string[] = [
    `# Containerfile of ${svc.name} ${svc.version}, generated by bentoc ${manifest.compiler}; recompile instead of editing.`,
    `# Build context: the bento directory. Every RUN is exec-form, so the base image needs node but no shell.`,
    `#   podman build -t ${svc.name}:${svc.version} .        (or: docker build -f Containerfile …, buildah bud …)`,
    `ARG BASE_IMAGE=${baseImage}`,
    "",
  ];
  if (mode === "npm-ci") {
    lines.push(
      `# 1. npm dependencies: rebuilt only when package.json or package-lock.json change.`,
      `FROM \${BASE_IMAGE} AS deps`,
      `WORKDIR ${BENTO_DIR}`,
      envLine([
        ["NODE_ENV", "production"],
        ["NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt"],
        ["npm_config_audit", "false"],
        ["npm_config_fund", "false"],
        ["npm_config_update_notifier", "false"],
        // onnxruntime-node downloads CUDA libraries at install time unless told not to (docs/install.md).
        ...(manifest.runners.some((r) => (r.resources.gpu ?? 0) > 0) ? [] : ([["npm_config_onnxruntime_node_install", "skip"]] as [string, string][])),
      ]),
      `COPY ${["package.json", "package-lock.json", ...localPackages].join(" ")} ${BENTO_DIR}/`,
      `RUN ${execForm(["node", npmCli, "ci", "--omit=dev"])}`,
      "",
    );
  }
  lines.push(`# The serving image.`, `FROM \${BASE_IMAGE}`);
  if (packages.length > 0) {
    lines.push(`RUN ${execForm(["apt-get", "update"])}`, `RUN ${execForm(["apt-get", "install", "-y", "--no-install-recommends", ...packages])}`);
  }
  if (setup !== undefined) {
    lines.push(`COPY --chmod=0755 ${setup} ${BENTO_DIR}/${setup}`, `RUN ${execForm([`${BENTO_DIR}/${setup}`])}`);
  }
  const env = Object.entries(options.env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  lines.push(
    envLine([["NODE_ENV", "production"], ["BENTOC_HOME", `${BENTO_DIR}/models`], ...env]),
    `WORKDIR ${BENTO_DIR}`,
    `# 1. dependencies`,
    mode === "npm-ci" ? `COPY --from=deps ${BENTO_DIR}/node_modules ${BENTO_DIR}/node_modules` : `COPY node_modules/ ${BENTO_DIR}/node_modules/`,
    `COPY package.json package-lock.json ${BENTO_DIR}/`,
  );
  if (manifest.models.length > 0) {
    lines.push(`# 2. models (${manifest.models.join(", ")}): rebuilt only when a model changes.`, `COPY models/ ${BENTO_DIR}/models/`);
  } else {
    lines.push(`# 2. models: this service references none.`);
  }
  lines.push(
    `# 3. code: the only layer a code change rebuilds.`,
    `COPY ${MANIFEST_FILE} ${OPENAPI_FILE} ${bundle} ${BENTO_DIR}/`,
    ...dataFiles.map((f) => `COPY ${f} ${BENTO_DIR}/${f}`),
    `USER ${RUN_AS_USER}:${RUN_AS_USER}`,
    `EXPOSE ${PORT}`,
    `HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 CMD ${execForm(["node", "-e", HEALTHCHECK_SCRIPT])}`,
    `ENTRYPOINT ${execForm(["node", BENTOC_CLI])}`,
    `CMD ${execForm(["serve", BENTO_DIR, "--port", String(PORT)])}`,
    "",
  );

  const allowed = [MANIFEST_FILE, OPENAPI_FILE, bundle, "package.json", "package-lock.json"];
  if (manifest.models.length > 0) allowed.push("models/", "models/**");
  if (mode === "copy") allowed.push("node_modules/", "node_modules/**");
  if (setup !== undefined) allowed.push(setup);
  if (mode === "npm-ci") allowed.push(...localPackages);
  allowed.push(...dataFiles);
  const ignore = [
    "# Only what the image needs enters the build context; everything else (k8s/, client/, notes) stays out.",
    "*",
    ...allowed.map((p) => `!${p}`),
    "",
  ];
  return { ".containerignore": ignore.join("\n"), Containerfile: lines.join("\n") };
}
