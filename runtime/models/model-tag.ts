/** Model tags `name:version`: validation, parsing, and versions that sort by creation time. */
import { randomBytes } from "node:crypto";
import { ModelStoreError } from "./model-store-error.ts";

/** Lowercase letters, digits, `-`, `_`, `.`; starts and ends with a letter or digit; at most 63 chars. */
const PART = /^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/;

export interface ParsedTag {
  name: string;
  /** `null` for `name` or `name:latest`. */
  version: string | null;
}

export function validateName(name: string, what = "model name"): void {
  if (!PART.test(name) || name.includes("..")) {
    throw new ModelStoreError(
      "INVALID_TAG",
      `invalid ${what} ${JSON.stringify(name)}: use lowercase letters, digits, "-", "_" and "." (starting and ending with a letter or digit, at most 63 characters)`,
    );
  }
}

export function parseTag(tag: string): ParsedTag {
  const parts = tag.split(":");
  if (parts.length > 2) throw new ModelStoreError("INVALID_TAG", `invalid model tag ${JSON.stringify(tag)}: expected NAME or NAME:VERSION`);
  const [name = "", version] = parts;
  validateName(name);
  if (version === undefined || version === "latest") return { name, version: null };
  validateName(version, "model version");
  return { name, version };
}

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";
const TIME_CHARS = 10; // 50 bits of milliseconds: good until the year 37648

function encodeTime(ms: number): string {
  let out = "";
  let n = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = CROCKFORD[n % 32] + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/** The millisecond timestamp encoded in a generated version, or null for a version made elsewhere. */
export function versionTime(version: string): number | null {
  if (!/^[0-9a-hjkmnp-tv-z]{16}$/.test(version)) return null;
  let ms = 0;
  for (const ch of version.slice(0, TIME_CHARS)) ms = ms * 32 + CROCKFORD.indexOf(ch);
  return ms;
}

/**
 * A new version: 10 Crockford base32 characters of the time in ms, then 6 random ones (16 in all), so
 * lexical order is time order. `after` (the newest existing version of the name) makes it strictly later
 * than that one even within the same millisecond or under a clock step back.
 */
export function newVersion(after?: string | null, now = Date.now()): string {
  const previous = after ? versionTime(after) : null;
  // A previous version far in the future is not ours to follow (hand-made or from a broken clock).
  const plausible = previous !== null && previous < now + 366 * 24 * 3600 * 1000;
  const ms = plausible && previous >= now ? previous + 1 : now;
  const random = [...randomBytes(6)].map((b) => CROCKFORD[b % 32]).join("");
  return encodeTime(ms) + random;
}
