/** The JSON Schema of `bentofile.yaml` and the shape it validates to. */

export interface BentofileDocker {
  base_image?: string;
  system_packages?: string[];
  env?: Record<string, string>;
  setup_script?: string;
  node_version?: string;
}

/** `bentofile.yaml` as written (snake_case keys, as BentoML users know them). */
export interface BentofileSpec {
  service: string;
  name?: string;
  labels?: Record<string, string>;
  description?: string | { file: string };
  include?: string[];
  exclude?: string[];
  models?: string[];
  packages?: Record<string, string>;
  docker?: BentofileDocker;
}

const NAME = "^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$";

export const BENTOFILE_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  additionalProperties: false,
  required: ["service"],
  properties: {
    service: { type: "string", minLength: 1 },
    name: { type: "string", pattern: NAME },
    labels: { type: "object", additionalProperties: { type: "string" }, propertyNames: { pattern: "^[A-Za-z0-9][A-Za-z0-9._/-]*$" } },
    description: {
      oneOf: [{ type: "string" }, { type: "object", additionalProperties: false, required: ["file"], properties: { file: { type: "string", minLength: 1 } } }],
    },
    include: { type: "array", items: { type: "string", minLength: 1 } },
    exclude: { type: "array", items: { type: "string", minLength: 1 } },
    models: { type: "array", items: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]*(:[a-z0-9][a-z0-9._-]*)?$" } },
    packages: {
      type: "object",
      additionalProperties: { type: "string", minLength: 1 },
      propertyNames: { pattern: "^(@[a-z0-9][a-z0-9._~-]*/)?[a-zA-Z0-9][a-zA-Z0-9._~-]*$" },
    },
    docker: {
      type: "object",
      additionalProperties: false,
      properties: {
        base_image: { type: "string", minLength: 1 },
        system_packages: { type: "array", items: { type: "string", pattern: "^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$" } },
        env: { type: "object", additionalProperties: { type: "string" }, propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" } },
        setup_script: { type: "string", minLength: 1 },
        node_version: { type: "string", pattern: "^\\d+(\\.\\d+){0,2}$" },
      },
    },
  },
} as const;
