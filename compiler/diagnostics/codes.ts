/**
 * The table of bentoc diagnostic codes. Each entry: severity, a short title (for docs and `--format json`)
 * and a message template whose `{name}` placeholders are filled from the arguments of `createDiagnostic`;
 * some also carry a hint template (what to do about it), printed under the code frame.
 * Codes are stable: never renumber, only add. BC1xxx are errors, BC2xxx warnings.
 */
export type Severity = "error" | "warning";

export interface CodeInfo {
  severity: Severity;
  title: string;
  message: string;
  /** What to do about it; `{name}` placeholders as in the message. */
  hint?: string;
}

export const CODES = {
  BC1001: { severity: "error", title: "no @service found", message: "No class decorated with @service was found in '{entry}'." },
  BC1002: {
    severity: "error",
    title: "more than one @service",
    message: "More than one @service class: '{name}' and '{other}'. A bento serves exactly one service.",
  },
  BC1003: { severity: "error", title: "unknown runner", message: "depends({name}) refers to a class that is not decorated with @runner." },
  BC1004: { severity: "error", title: "duplicate route", message: "Duplicate route {method} {route}: already used by API '{other}'." },
  BC1005: {
    severity: "error",
    title: "non-static decorator option",
    message: "Decorator options must be static values (literals, arrays, objects, io.* calls); '{text}' is not.",
  },
  BC1006: { severity: "error", title: "unsupported type", message: "Type '{type}' at '{path}' cannot be sent as JSON: {reason}." },
  BC1007: { severity: "error", title: "batchable method without a batch dimension", message: "@batchable method '{name}' must {what}." },
  BC1008: {
    severity: "error",
    title: "missing return type on an @api",
    message: "@api method '{name}' needs an explicit return type annotation (the compiler does not infer API contracts).",
  },
  BC1009: { severity: "error", title: "invalid name", message: "Invalid {kind} '{name}': {rule}." },
  BC1010: {
    severity: "error",
    title: "IO descriptor does not match the type",
    message: "io.{kind}() {side} requires {expected}, but the {where} type is '{type}'.",
  },
  BC1011: { severity: "error", title: "invalid @api parameters", message: "@api method '{name}' {problem}." },
  BC1012: { severity: "error", title: "invalid batching option", message: "Invalid batching option {option}: {rule}." },
  BC1013: { severity: "error", title: "duplicate runner name", message: "Runner name '{name}' is used by both '{className}' and '{other}'." },
  BC1014: {
    severity: "error",
    title: "invalid model tag",
    message: "Invalid model tag '{tag}': expected 'name' or 'name:version' (lowercase letters, digits, '.', '_', '-').",
  },
  BC1015: { severity: "error", title: "entry not found", message: "Entry '{entry}' not found{detail}." },
  BC1016: { severity: "error", title: "invalid option value", message: "Option '{option}' {rule}." },
  BC1017: { severity: "error", title: "reserved route", message: "Route '{route}' is reserved by the bentoc server ({reserved})." },
  BC1019: { severity: "error", title: "decorator on the wrong target", message: "@{decorator} {problem}." },
  BC1020: { severity: "error", title: "bundle failed", message: "esbuild could not bundle the service: {message}." },
  BC1021: {
    severity: "error",
    title: "experimentalDecorators is on",
    message:
      '\'experimentalDecorators\' is on, but bentoc\'s decorators are standard (TC39) decorators, which TypeScript checks only with it off (otherwise TS1238/TS1241 on every decorator). Remove "experimentalDecorators" (and "emitDecoratorMetadata") from the compilerOptions, or set it to false.',
  },
  BC1022: { severity: "error", title: "invalid streaming API", message: "Streaming @api method '{name}' {problem}." },
  BC1023: { severity: "error", title: "invalid scaling option", message: "Invalid scaling option {option}: {rule}." },
  BC1024: {
    severity: "error",
    title: "not a batchable method of the runner",
    message: "'{member}' is not a @batchable method of runner {className}: the depends() handle this.{field} has only its @batchable methods ({methods}).",
    hint: "{hint}",
  },
  BC1025: {
    severity: "error",
    title: "Model field that is never set",
    message: "The Model field '{field}' of runner {className} is never set ({why}): every call that uses it fails.",
    hint: "{hint}",
  },
  BC1026: {
    severity: "error",
    title: "model not in the store (build)",
    message: "Model '{tag}' of runner {runner} is not in the model store ({home}); a bento carries its models, so it cannot be built. {known}",
    hint: "Save or import it first (`bentoc models save`, `bentoc models import`, `bentoc models pull`), or fix the tag.",
  },
  BC1027: {
    severity: "error",
    title: "model inputs/outputs do not match the runner",
    message: "Runner {className} cannot run model {tag}: {problem}.",
    hint: "{hint}",
  },
  BC2001: { severity: "warning", title: "unused runner", message: "Runner '{name}' is declared but no service depends on it; it is left out of the bento." },
  BC2002: {
    severity: "warning",
    title: "GET API with a request body",
    message: "GET API '{name}' takes a parameter; GET requests carry no body, so clients send it as JSON anyway. Prefer POST.",
  },
  BC2003: {
    severity: "warning",
    title: "model not in the store",
    message: "Model '{tag}' of runner {runner} is not in the model store ({home}). {known}",
    hint: "`bentoc build` and `bentoc serve` need it: save or import it (`bentoc models save`, `bentoc models import`), or fix the tag.",
  },
  BC2004: {
    severity: "warning",
    title: "batch items unlike the model's tensors",
    message: "The items of runner {className} look unlike the tensors of model {tag}: {problem}.",
    hint: "{hint}",
  },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

/** Fill `{name}` placeholders; unknown placeholders are left as they are. */
export function renderMessage(template: string, args: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in args ? String(args[key]) : whole));
}
