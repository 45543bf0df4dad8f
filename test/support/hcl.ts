/**
 * HashiCorp's own HCL parser, compiled to WebAssembly in @cdktn/hcl2json (the
 * maintained fork of @cdktf/hcl2json): the offline Terraform checks read .tf
 * files through it, never through regular expressions.
 *
 * The package's own typings start with `/// <reference lib="dom" />`, which
 * would swap DOM types into every file of the type-check (fetch's body type
 * among them); it is loaded untyped, with just the two functions used.
 */
import { createRequire } from 'node:module';

const hcl2json = createRequire(import.meta.url)('@cdktn/hcl2json') as {
  parse(filename: string, contents: string): Promise<unknown>;
  getReferencesInExpression(filename: string, expression: string): Promise<Array<{ value: string }>>;
};

/** A value as hcl2json gives it: Terraform's JSON syntax, expressions kept as strings like "${var.x}". */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * HCL source -> Terraform's JSON syntax. Every block is an array of bodies
 * (`name { ... }` -> `name: [{...}]`, labels as nested keys); an argument keeps
 * its literal value (`x = { a = 1 }` -> `x: {a: 1}`) or its expression as a
 * "${...}" string. Object keys come back sorted, not in source order.
 */
export async function parseHcl(filename: string, contents: string): Promise<JsonObject> {
  return (await hcl2json.parse(filename, contents)) as JsonObject;
}

/** The references (var.x, aws_iam_role.r.arn, ...) in a quoted template. */
export async function referencesInExpression(filename: string, expression: string): Promise<Array<{ value: string }>> {
  return hcl2json.getReferencesInExpression(filename, expression);
}

export const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
