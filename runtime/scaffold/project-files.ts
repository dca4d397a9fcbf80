/**
 * The files of a new service project, as `bentoc init` writes them: `src/service.ts` (one @api, one
 * @batchable runner on the project's model), `tsconfig.json` (NodeNext, standard TC39 decorators),
 * `bentofile.yaml`, `README.md` with the next commands, `.gitignore`. Pure: the same spec gives the same
 * bytes. package.json is merged separately (package-json.ts), since it may already exist.
 */
import type { RunnerPlan } from "./runner-plan.ts";

export interface ProjectSpec {
  /** The service name (kebab-case). */
  name: string;
  /** The service class name (PascalCase of the name). */
  className: string;
  /** The model tag the runner loads (`name:latest`). */
  modelTag: string;
  plan: RunnerPlan;
  /** Where the model came from, for the README (`the starter classifier …` or the file given). */
  modelOrigin: string;
}

/** The files and their contents, keyed by path relative to the project directory. */
export type ProjectFiles = Record<string, string>;

export const SERVICE_FILE = "src/service.ts";

/** A row of example numbers for the README and the curl line. */
export function exampleRow(features: number): number[] {
  return Array.from({ length: features }, (_, i) => Number((((i % 9) + 1) / 10).toFixed(1)));
}

export function exampleBody(plan: RunnerPlan): string {
  return JSON.stringify({ rows: [exampleRow(plan.features)] });
}

function serviceSource(s: ProjectSpec): string {
  const p = s.plan;
  const outputs = p.outputs === null ? "values" : `${p.outputs} value${p.outputs === 1 ? "" : "s"}`;
  return `/**
 * ${s.name}: a bentoc service. One API (POST /predict) and one runner on the ONNX model ${s.modelTag}
 * (input ${JSON.stringify(p.inputName)} float32 [rows, ${p.features}], output ${JSON.stringify(p.outputName)} float32 [rows, ${p.outputs ?? "n"}]).
 *
 *   npx bentoc serve      compile and serve on http://localhost:3000 (Swagger UI at /docs)
 *   npx bentoc compile    manifest, OpenAPI, typed client, Kubernetes YAML, Containerfile in .bentoc/
 */
import { api, batchable, depends, HttpError, runner, service, type Model } from "bentoc";

/** Numbers per row the model takes. */
const FEATURES = ${p.features};

export interface PredictRequest {
  /**
   * Rows to score, each of ${p.features} numbers.
   * @minItems 1
   * @maxItems 1024
   */
  rows: number[][];
}

export interface PredictResponse {
  /** One row of ${outputs} per input row. */
  scores: number[][];
}

/** The model behind the API. Concurrent calls are batched along the rows (dimension 0). */
@runner({ name: "model", model: ${JSON.stringify(s.modelTag)} })
export class ModelRunner {
  model!: Model;

  @batchable({ batchDim: 0, maxBatchSize: 64, maxLatencyMs: 5 })
  async predict(rows: number[][]): Promise<number[][]> {
    const x = new Float32Array(rows.length * FEATURES);
    rows.forEach((row, i) => x.set(row, i * FEATURES));
    const out = await this.model.run({ ${JSON.stringify(p.inputName)}: { dtype: "float32", shape: [rows.length, FEATURES], data: x } });
    const y = out[${JSON.stringify(p.outputName)}];
    if (!y) throw new Error(${JSON.stringify(`the model has no output "${p.outputName}"`)});
    const data = y.data as Float32Array;
    const width = data.length / rows.length;
    return rows.map((_, i) => Array.from(data.subarray(i * width, (i + 1) * width)));
  }
}

/** Scores rows of ${p.features} numbers with ${s.modelTag}. */
@service({ name: ${JSON.stringify(s.name)}, version: "0.1.0" })
export class ${s.className} {
  readonly runner = depends(ModelRunner);

  /** One row of scores per input row. */
  @api({ route: "/predict" })
  async predict(request: PredictRequest): Promise<PredictResponse> {
    request.rows.forEach((row, i) => {
      if (row.length !== FEATURES) throw new HttpError(400, "bad_row", \`row \${i} has \${row.length} numbers; the model takes \${FEATURES}\`);
    });
    return { scores: await this.runner.predict(request.rows) };
  }
}
`;
}

/** A tsconfig for NodeNext ES modules and standard (TC39) decorators: no `experimentalDecorators`. */
export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2023"],
      types: ["node"],
      strict: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ["src"],
  },
  null,
  2,
)}\n`;

function bentofile(s: ProjectSpec): string {
  return `# bentoc build → a bento (service, models, dependencies) in $BENTOC_HOME/bentos/${s.name}/<version>/
service: ${SERVICE_FILE}
description: "Scores rows of ${s.plan.features} numbers with ${s.modelTag}."
`;
}

function readme(s: ProjectSpec): string {
  const body = exampleBody(s.plan);
  return `# ${s.name}

A bentoc service: \`${SERVICE_FILE}\` has one API, \`POST /predict\`,
and one batched runner on the ONNX model \`${s.modelTag}\` (${s.modelOrigin}), kept in the model store
(\`$BENTOC_HOME\`, default \`~/.bentoc\`).

## Run it

\`\`\`sh
npm install
npx bentoc serve                      # compiles src/service.ts and serves on http://localhost:3000
curl -s localhost:3000/predict -H 'content-type: application/json' -d '${body}'
\`\`\`

Swagger UI is at http://localhost:3000/docs; \`/livez\`, \`/readyz\` and \`/metrics\` are there too.

## Next

\`\`\`sh
npx bentoc serve --reload             # recompile and swap on every save
npx bentoc compile                    # .bentoc/: bento.json, openapi.json, client/, k8s/, Containerfile, bundle
npm run typecheck                     # tsc over src/
npx bentoc build                      # a bento: the service, its exact model and dependencies
npx bentoc containerize ${s.name}     # an OCI image of it (podman, buildah or docker)
npx bentoc doctor                     # Node, HTTP backend, onnxruntime, model store, container tools
\`\`\`

The typed client is in \`.bentoc/client/\` after a compile:

\`\`\`js
import { createClient } from "./.bentoc/client/index.js";
const client = createClient({ baseUrl: "http://localhost:3000" });
console.log(await client.predict(${body}));
\`\`\`

Use your own model: \`npx bentoc models save my-model.onnx --name ${s.modelTag.split(":")[0]}\` saves a new version under
the same name (the runner loads \`latest\`), or \`npx bentoc init --force --model my-model.onnx\` writes a runner
for it.
`;
}

export const GITIGNORE = `node_modules/
.bentoc/
`;

export function projectFiles(spec: ProjectSpec): ProjectFiles {
  return {
    [SERVICE_FILE]: serviceSource(spec),
    "tsconfig.json": TSCONFIG,
    "bentofile.yaml": bentofile(spec),
    "README.md": readme(spec),
    ".gitignore": GITIGNORE,
  };
}
