/**
 * The ajv options the configuration's validator is generated with (scripts/generate-validators.ts →
 * runtime/config/config-validator.ts). `validateSchema: false`: ajv's check of the schema against the
 * draft-07 meta-schema is done by test/unit/config/load-config.test.ts instead.
 */
export const CONFIG_AJV_OPTIONS = { allErrors: true, strict: false, validateSchema: false } as const;
