/**
 * The ajv options the manifest's validator is generated with (scripts/generate-validators.ts →
 * contract/manifest-validator.ts). `validateSchema: false`: ajv's check of the schema against the draft
 * 2020-12 meta-schema is done by test/unit/contract/manifest-schema.test.ts instead.
 */
export const MANIFEST_AJV_OPTIONS = { allErrors: false, strict: true, allowUnionTypes: true, discriminator: true, validateSchema: false } as const;
