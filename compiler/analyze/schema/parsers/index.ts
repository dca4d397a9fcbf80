/** The parsers in the order they are tried: fixed library types first, plain objects last. */
import type { TypeParser } from "../type-parser.ts";
import { arrayParser, tupleParser } from "./array.ts";
import { literalParser } from "./literal.ts";
import { objectParser } from "./object.ts";
import { primitiveParser } from "./primitive.ts";
import { specialParser } from "./special.ts";
import { unionParser } from "./union.ts";

export const PARSERS: readonly TypeParser[] = [specialParser, literalParser, primitiveParser, unionParser, tupleParser, arrayParser, objectParser];
