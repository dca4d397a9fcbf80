export * from "./http-errors.ts";
