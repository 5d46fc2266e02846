#!/usr/bin/env node
// Headless check of a YAML file against a JSON Schema through yaml-language-server, the way an editor sees it.
//
//   node tests/js/lsp-check.mjs <schema.json> <file.yaml>
//
// Prints the diagnostics the server publishes for the file as a JSON array on stdout:
//   [{"line": 1-based, "column": 1-based, "message": "...", "severity": 1|2|3|4}]
// and exits 0. Exits 2 with a message on stderr on any failure or timeout.
//
// Environment (all optional):
//   AGW_LSP_NODE        node binary that runs the server (default: the node running this script)
//   AGW_LSP_TIMEOUT_MS  overall limit for diagnostics to arrive (default 8000)
//   AGW_LSP_QUIET_MS    quiet time after the last publication before it is taken as final (default 1500)
//   AGW_LSP_DEBUG=1     log the protocol traffic to stderr

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOTAL_MS = Number(process.env.AGW_LSP_TIMEOUT_MS || 8000);
const QUIET_MS = Number(process.env.AGW_LSP_QUIET_MS || 1500);
const STEP_MS = Math.min(TOTAL_MS, 5000); // bound on any single request (initialize, shutdown)
const DEBUG = process.env.AGW_LSP_DEBUG === '1';

let child = null;
let finished = false;
let stopping = false; // set once we ask the server to exit

function debug(...args) {
  if (DEBUG) console.error('[lsp-check]', ...args);
}

function fail(msg) {
  if (finished) return;
  finished = true;
  process.stderr.write(`lsp-check: ${msg}\n`);
  if (child && child.exitCode === null) child.kill('SIGKILL');
  process.exit(2);
}

// A hard stop whatever happens below: no code path may hang past this.
const hardStop = setTimeout(() => fail(`gave up after ${TOTAL_MS + 2 * STEP_MS} ms`), TOTAL_MS + 2 * STEP_MS);
hardStop.unref();

const [schemaArg, yamlArg] = process.argv.slice(2);
if (!schemaArg || !yamlArg) fail('usage: node lsp-check.mjs <schema.json> <file.yaml>');
const schemaPath = path.resolve(schemaArg);
const yamlPath = path.resolve(yamlArg);
for (const p of [schemaPath, yamlPath]) if (!existsSync(p)) fail(`no such file: ${p}`);
const schemaUri = pathToFileURL(schemaPath).href;
const yamlUri = pathToFileURL(yamlPath).href;
let yamlText;
try {
  yamlText = readFileSync(yamlPath, 'utf8');
} catch (e) {
  fail(`cannot read ${yamlPath}: ${e.message}`);
}

const serverBin = path.join(here, 'node_modules', 'yaml-language-server', 'bin', 'yaml-language-server');
if (!existsSync(serverBin)) fail(`yaml-language-server is not installed under ${here}/node_modules (run ci/install-test-deps.sh)`);

const yamlSettings = {
  schemas: { [schemaUri]: [yamlUri, yamlPath] },
  validate: true,
  hover: true,
  completion: true,
  format: { enable: false },
  schemaStore: { enable: false },
};

// ---- JSON-RPC over stdio (Content-Length framing) ----
child = spawn(process.env.AGW_LSP_NODE || process.execPath, [serverBin, '--stdio'], {
  stdio: ['pipe', 'pipe', 'pipe'],
});
let serverStderr = '';
child.stderr.on('data', (d) => {
  serverStderr = (serverStderr + d.toString()).slice(-4000);
  debug('server stderr:', d.toString().trim());
});
child.on('error', (e) => fail(`cannot start yaml-language-server: ${e.message}`));
child.on('exit', (code, signal) => {
  if (!finished && !stopping) fail(`yaml-language-server exited early (code ${code}, signal ${signal}); stderr: ${serverStderr.trim()}`);
});
child.stdin.on('error', (e) => {
  // EPIPE means the server is gone: let its exit report say why, unless it never comes.
  setTimeout(() => fail(`writing to yaml-language-server: ${e.message}; stderr: ${serverStderr.trim()}`), 500).unref();
});

function send(msg) {
  const body = JSON.stringify({ jsonrpc: '2.0', ...msg });
  debug('->', body.length > 400 ? body.slice(0, 400) + '...' : body);
  child.stdin.write(`Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`);
}

let nextId = 1;
const pending = new Map();
function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`no answer to ${method} within ${STEP_MS} ms`));
    }, STEP_MS);
    pending.set(id, { resolve, reject, timer, method });
  });
}
function notify(method, params) {
  send({ method, params });
}

let buf = Buffer.alloc(0);
child.stdout.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const headerEnd = buf.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const header = buf.subarray(0, headerEnd).toString('ascii');
    const m = /Content-Length:\s*(\d+)/i.exec(header);
    if (!m) return fail(`bad header from server: ${JSON.stringify(header)}`);
    const len = Number(m[1]);
    if (buf.length < headerEnd + 4 + len) return;
    const body = buf.subarray(headerEnd + 4, headerEnd + 4 + len).toString('utf8');
    buf = buf.subarray(headerEnd + 4 + len);
    let msg;
    try {
      msg = JSON.parse(body);
    } catch (e) {
      return fail(`bad JSON from server: ${e.message}`);
    }
    debug('<-', body.length > 400 ? body.slice(0, 400) + '...' : body);
    onMessage(msg);
  }
});

function configurationFor(item) {
  // yaml-language-server asks for the sections yaml, http, [yaml], editor, files: give it our yaml
  // settings for "yaml" (or an unnamed section) and an empty object for the others.
  const section = item && item.section;
  if (!section || section === 'yaml') return yamlSettings;
  if (section.startsWith('yaml.')) {
    return section
      .slice(5)
      .split('.')
      .reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), yamlSettings) ?? null;
  }
  return {};
}

const SCHEMA_ERROR = /^(Unable to load schema from|Unable to parse content from|Problems loading reference)/;

const publications = [];
let onPublish = () => {};

function onMessage(msg) {
  if (msg.id !== undefined && msg.method === undefined) {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) p.reject(new Error(`${p.method} failed: ${msg.error.message}`));
    else p.resolve(msg.result);
    return;
  }
  if (msg.id !== undefined) {
    // A request from the server: answer every one so that it never waits on us.
    let result = null;
    if (msg.method === 'workspace/configuration') {
      result = ((msg.params && msg.params.items) || []).map(configurationFor);
    }
    send({ id: msg.id, result });
    return;
  }
  if (msg.method === 'textDocument/publishDiagnostics' && msg.params && msg.params.uri === yamlUri) {
    publications.push({ at: Date.now(), diagnostics: msg.params.diagnostics || [] });
    onPublish();
  }
}

function waitForDiagnostics(startedAt) {
  return new Promise((resolve, reject) => {
    let quietTimer = null;
    const deadline = setTimeout(() => {
      clearTimeout(quietTimer);
      if (publications.length) resolve(publications[publications.length - 1].diagnostics);
      else reject(new Error(`no diagnostics published for ${yamlUri} within ${TOTAL_MS} ms`));
    }, Math.max(0, TOTAL_MS - (Date.now() - startedAt)));
    onPublish = () => {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(() => {
        clearTimeout(deadline);
        resolve(publications[publications.length - 1].diagnostics);
      }, QUIET_MS);
    };
  });
}

async function shutdown() {
  stopping = true;
  try {
    await Promise.race([request('shutdown', null), new Promise((r) => setTimeout(r, 1000))]);
    notify('exit', null);
  } catch {
    // the server is killed below in any case
  }
  await new Promise((r) => {
    if (child.exitCode !== null) return r();
    const t = setTimeout(r, 1000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
  });
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function main() {
  const startedAt = Date.now();
  const rootUri = pathToFileURL(path.dirname(yamlPath)).href;
  await request('initialize', {
    processId: process.pid,
    clientInfo: { name: 'agw-lsp-check', version: '1' },
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'workspace' }],
    capabilities: {
      workspace: {
        configuration: true,
        didChangeConfiguration: { dynamicRegistration: true },
        workspaceFolders: true,
      },
      textDocument: {
        synchronization: { dynamicRegistration: true, didSave: true },
        publishDiagnostics: { relatedInformation: true },
        hover: { contentFormat: ['markdown', 'plaintext'] },
        completion: { completionItem: { snippetSupport: true } },
      },
    },
    initializationOptions: {},
  });
  notify('initialized', {});
  notify('workspace/didChangeConfiguration', { settings: { yaml: yamlSettings } });
  notify('textDocument/didOpen', {
    textDocument: { uri: yamlUri, languageId: 'yaml', version: 1, text: yamlText },
  });
  const diagnostics = await waitForDiagnostics(startedAt);
  // A schema the server could not load or parse is a broken check, not a finding about the document.
  const schemaErrors = diagnostics.filter((d) => SCHEMA_ERROR.test(d.message));
  if (schemaErrors.length) throw new Error(`the schema did not load: ${schemaErrors.map((d) => d.message).join('; ')}`);
  const out = diagnostics
    .map((d) => ({
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
      message: d.message,
      severity: d.severity ?? 1,
    }))
    .sort((a, b) => a.line - b.line || a.column - b.column);
  await shutdown();
  finished = true;
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

main().catch((e) => fail(e.message));
