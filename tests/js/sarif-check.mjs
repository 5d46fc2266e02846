#!/usr/bin/env node
// Validates a SARIF log against the SARIF 2.1.0 JSON Schema (the schema file shipped in @microsoft/jest-sarif).
//
//   node tests/js/sarif-check.mjs <file.sarif>     (or "-" to read stdin)
//
// Exit 0 and prints {"valid":true} when the log conforms; exit 1 and prints
// {"valid":false,"errors":[{"path":"/runs/0/...","message":"..."}]} when it does not;
// exit 2 with a message on stderr when the file cannot be read or is not JSON.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCHEMA = path.join(here, 'node_modules', '@microsoft', 'jest-sarif', 'lib', 'schemas', 'sarif-2.1.0-rtm.5.json');

function fail(msg) {
  process.stderr.write(`sarif-check: ${msg}\n`);
  process.exit(2);
}

const arg = process.argv[2];
if (!arg) fail('usage: node sarif-check.mjs <file.sarif | ->');

let schema;
let log;
try {
  schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
} catch (e) {
  fail(`cannot load the SARIF schema (run ci/install-test-deps.sh): ${e.message}`);
}
try {
  log = JSON.parse(readFileSync(arg === '-' ? 0 : arg, 'utf8'));
} catch (e) {
  fail(`cannot read ${arg} as JSON: ${e.message}`);
}

// unicodeRegExp: false because the published schema's "language" pattern has a stray ']' that the
// unicode-mode RegExp rejects (and that JSON Schema's ECMA 262 patterns, without the u flag, accept).
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
let validate;
try {
  validate = ajv.compile(schema);
} catch (e) {
  fail(`cannot compile the SARIF schema: ${e.message}`);
}
if (validate(log)) {
  process.stdout.write(JSON.stringify({ valid: true }) + '\n');
  process.exit(0);
}
const errors = validate.errors.map((e) => ({
  path: e.instancePath || '/',
  message: e.keyword === 'additionalProperties' ? `${e.message}: '${e.params.additionalProperty}'` : e.message,
}));
process.stdout.write(JSON.stringify({ valid: false, errors }) + '\n');
process.exit(1);
