/**
 * JSON Schema of bentoc.yaml (camelCase keys; snake_case is accepted and normalised before validation).
 * Closed objects everywhere, so a misspelt key is an error instead of a silently ignored setting.
 */
const batching = {
  type: "object",
  additionalProperties: false,
  properties: {
    enabled: { type: "boolean" },
    maxBatchSize: { type: "integer", minimum: 1 },
    maxLatencyMs: { type: "number", minimum: 0 },
    maxQueueSize: { type: "integer", minimum: 1 },
  },
} as const;

export const configSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    server: {
      type: "object",
      additionalProperties: false,
      properties: {
        http: { enum: ["auto", "uws", "node"] },
        host: { type: "string", minLength: 1 },
        port: { type: "integer", minimum: 0, maximum: 65535 },
        workers: { type: "integer", minimum: 1 },
        maxBodyBytes: { type: "integer", minimum: 1 },
        maxHeaderBytes: { type: "integer", minimum: 1024, maximum: 1048576 },
        maxImagePixels: { type: "integer", minimum: 1 },
        timeoutMs: { type: "integer", minimum: 1 },
        streamMaxMs: { type: "integer", minimum: 0 },
        streamIdleMs: { type: "integer", minimum: 0 },
        streamHeartbeatMs: { type: "integer", minimum: 0 },
        maxConcurrency: { type: "integer", minimum: 1 },
        drainMs: { type: "integer", minimum: 0 },
        cors: {
          type: "object",
          additionalProperties: false,
          properties: { enabled: { type: "boolean" }, origins: { type: "array", items: { type: "string" } } },
        },
        accessLog: { type: "boolean" },
        admin: { type: "boolean" },
        adminToken: { type: ["string", "null"], minLength: 16 },
      },
    },
    runners: {
      type: "object",
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        properties: {
          placement: { enum: ["inline", "worker"] },
          threads: { type: ["integer", "null"], minimum: 1 },
          batching,
          methods: { type: "object", additionalProperties: batching },
          url: { type: ["string", "null"] },
        },
      },
    },
    metrics: {
      type: "object",
      additionalProperties: false,
      properties: {
        enabled: { type: "boolean" },
        durationBuckets: { type: "array", items: { type: "number", exclusiveMinimum: 0 }, minItems: 1 },
      },
    },
    tracing: {
      type: "object",
      additionalProperties: false,
      properties: {
        sampleRate: { type: "number", minimum: 0, maximum: 1 },
        endpoint: { type: ["string", "null"] },
        headers: { type: "object", additionalProperties: { type: "string" } },
        protocol: { enum: ["http/protobuf", "http/json", null] },
      },
    },
    logging: {
      type: "object",
      additionalProperties: false,
      properties: { level: { enum: ["debug", "info", "warn", "error"] } },
    },
    home: { type: "string", minLength: 1 },
  },
} as const;

export type SchemaNode = {
  type?: string | readonly string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  enum?: readonly unknown[];
};

/** The schema node at a camelCase path (map keys pass through `additionalProperties`). */
export function schemaAt(path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = configSchema as unknown as SchemaNode;
  for (const key of path) {
    if (!node) return undefined;
    if (node.properties && key in node.properties) node = node.properties[key];
    else if (typeof node.additionalProperties === "object") node = node.additionalProperties;
    else return undefined;
  }
  return node;
}

/** `max_batch_size` → `maxBatchSize`; camelCase passes through. */
export function camelCase(key: string): string {
  return key.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The property of `node` that `key` names (exact, snake_case or case-insensitive), or undefined. */
export function propertyName(node: SchemaNode, key: string): string | undefined {
  if (!node.properties) return undefined;
  if (key in node.properties) return key;
  const camel = camelCase(key.toLowerCase().includes("_") ? key.toLowerCase() : key);
  if (camel in node.properties) return camel;
  const lower = key.replace(/[_-]/g, "").toLowerCase();
  return Object.keys(node.properties).find((p) => p.toLowerCase() === lower);
}
