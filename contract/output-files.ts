/**
 * The files of a compiled directory (`bentoc compile`'s output, a bento's code) that the runtime reads:
 * the manifest, the OpenAPI document it serves at `/docs.json`, and the bundle the manifest names.
 */

/** The manifest (`Manifest`, checked against `MANIFEST_JSON_SCHEMA` at load). */
export const MANIFEST_FILE = "bento.json";
/** The OpenAPI 3.1 document of the service. */
export const OPENAPI_FILE = "openapi.json";
/** The esbuild bundle of the service (`manifest.entry.bundle`); its source map is `${BUNDLE_FILE}.map`. */
export const BUNDLE_FILE = "service.mjs";
