// The activation logic against fakes of VS Code and of the language client: no VS Code is needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import type { LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';

import {
  activate,
  CHECK_ONLINE,
  Client,
  DEFAULTS,
  Deps,
  OPEN_SETTINGS,
  RESTART,
  RUNNING_CONTEXT,
  ServerSettings,
} from '../activate';

const STDIO = 0;
const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

interface FakeDoc {
  languageId: string;
  uri: { scheme: string; toString(): string };
}

class FakeClient implements Client {
  running = false;
  stops = 0;
  private listeners = new Set<() => void>();
  constructor(
    readonly id: string,
    readonly name: string,
    readonly server: ServerOptions,
    readonly options: LanguageClientOptions,
    private readonly failWith: string | undefined,
  ) {}
  async start() {
    if (this.failWith !== undefined) {
      throw new Error(this.failWith);
    }
    this.setRunning(true);
  }
  async stop() {
    this.setRunning(false);
    this.stops += 1;
  }
  isRunning() {
    return this.running;
  }
  onDidChangeState(listener: () => void) {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  /** What the real client does when its server dies and it gives up restarting it. */
  setRunning(running: boolean) {
    this.running = running;
    this.listeners.forEach((l) => l());
  }
}

/** A fake VS Code with `settings` under `agw`, and everything the extension did to it. */
function harness(settings: Record<string, unknown> = {}, failWith?: string) {
  const values = { ...settings };
  const clients: FakeClient[] = [];
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const executed: unknown[][] = [];
  const errors: { message: string; items: string[] }[] = [];
  const infos: string[] = [];
  const listeners: ((e: { affectsConfiguration(s: string): boolean }) => void)[] = [];
  let errorChoice: string | undefined;
  const window = { activeTextEditor: undefined as { document: FakeDoc } | undefined };
  const fake = {
    workspace: {
      getConfiguration(section?: string) {
        assert.equal(section, 'agw');
        return { get: (key: string) => values[key] };
      },
      onDidChangeConfiguration(listener: (typeof listeners)[number]) {
        listeners.push(listener);
        return { dispose() {} };
      },
    },
    window: {
      get activeTextEditor() {
        return window.activeTextEditor;
      },
      async showErrorMessage(message: string, ...items: string[]) {
        errors.push({ message, items });
        return errorChoice;
      },
      async showInformationMessage(message: string) {
        infos.push(message);
        return undefined;
      },
    },
    commands: {
      registerCommand(name: string, run: (...args: unknown[]) => unknown) {
        assert.ok(!commands.has(name), `${name} registered twice`);
        commands.set(name, run);
        return { dispose: () => commands.delete(name) };
      },
      async executeCommand(...args: unknown[]) {
        executed.push(args);
      },
    },
  };
  const LanguageClient = class extends FakeClient {
    constructor(id: string, name: string, server: ServerOptions, options: LanguageClientOptions) {
      super(id, name, server, options, failWith);
      clients.push(this);
    }
  };
  const deps = { vscode: fake, LanguageClient, stdio: STDIO } as unknown as Deps;
  return {
    deps,
    clients,
    commands,
    executed,
    errors,
    infos,
    window,
    chooseOnError(choice: string) {
      errorChoice = choice;
    },
    /** Sets agw settings as the user would, and tells the listeners which keys changed. */
    change(changed: Record<string, unknown>) {
      Object.assign(values, changed);
      const keys = Object.keys(changed).map((k) => `agw.${k}`);
      const event = {
        affectsConfiguration: (s: string) => keys.some((k) => k === s || k.startsWith(`${s}.`)),
      };
      listeners.forEach((l) => l(event));
    },
  };
}

function executable(c: FakeClient) {
  const server = c.server as { run: { command: string; args: string[]; transport: number } };
  return server.run;
}

function initializationOptions(c: FakeClient): unknown {
  const o = c.options.initializationOptions;
  return typeof o === 'function' ? o() : o;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('the server is `agw lsp` over stdio by default', async () => {
  const h = harness();
  await activate(h.deps).ready();
  assert.equal(h.clients.length, 1);
  assert.deepEqual(executable(h.clients[0]), { command: 'agw', args: ['lsp'], transport: STDIO });
  const server = h.clients[0].server as { run: unknown; debug: unknown };
  assert.deepEqual(server.debug, server.run);
  assert.equal(h.clients[0].id, 'agw');
  assert.ok(h.clients[0].running);
});

test('the palette offers agw.checkOnline while the server runs', async () => {
  const h = harness();
  const ext = activate(h.deps);
  await ext.ready();
  const running = () => h.executed.filter((e) => e[0] === 'setContext' && e[1] === RUNNING_CONTEXT).at(-1)?.[2];
  assert.equal(running(), true);
  h.clients[0].setRunning(false);
  assert.equal(running(), false);
  await ext.restart();
  assert.equal(running(), true);
  // The old client's state no longer counts.
  h.clients[0].setRunning(false);
  assert.equal(running(), true);
  await ext.stop();
  assert.equal(running(), false);
  const palette = manifest.contributes.menus.commandPalette.find(
    (m: { command: string }) => m.command === CHECK_ONLINE,
  );
  assert.ok(palette.when.split('&&').map((s: string) => s.trim()).includes(RUNNING_CONTEXT), palette.when);
});

test('the server is `<agw.path> lsp`; an empty agw.path is the default', async () => {
  let h = harness({ path: '/opt/agw/bin/agw' });
  await activate(h.deps).ready();
  assert.equal(executable(h.clients[0]).command, '/opt/agw/bin/agw');
  assert.deepEqual(executable(h.clients[0]).args, ['lsp']);
  h = harness({ path: '  ' });
  await activate(h.deps).ready();
  assert.equal(executable(h.clients[0]).command, 'agw');
});

test('the agw settings are the initializationOptions, under `agw`', async () => {
  const settings: ServerSettings = {
    env: { OKTA_DOMAIN: 'acme.okta.com' },
    envFile: '.env',
    allowUnsetEnv: true,
    processEnv: false,
    root: 'deploy',
    allow: ['placeholder'],
    deny: ['okta'],
    gatewayVersion: '1.4.1',
  };
  const h = harness({ ...settings, path: '/usr/bin/agw' });
  await activate(h.deps).ready();
  assert.deepEqual(initializationOptions(h.clients[0]), { agw: settings });
});

test('unset settings are sent as their defaults', async () => {
  const h = harness();
  await activate(h.deps).ready();
  assert.deepEqual(initializationOptions(h.clients[0]), { agw: DEFAULTS });
});

test('the `agw` section is synchronized, so didChangeConfiguration carries it', async () => {
  const h = harness();
  await activate(h.deps).ready();
  assert.equal(h.clients[0].options.synchronize?.configurationSection, 'agw');
});

test('the documents are YAML files and untitled YAML buffers', async () => {
  const h = harness();
  await activate(h.deps).ready();
  assert.deepEqual(h.clients[0].options.documentSelector, [
    { scheme: 'file', language: 'yaml' },
    { scheme: 'untitled', language: 'yaml' },
  ]);
});

test('agw.checkOnline sends workspace/executeCommand with the active document', async () => {
  const h = harness();
  await activate(h.deps).ready();
  const middleware = h.clients[0].options.middleware?.executeCommand;
  assert.ok(middleware, 'the client options have an executeCommand middleware');
  const sent: [string, unknown[]][] = [];
  const next = (command: string, args: unknown[]) => {
    sent.push([command, args]);
    return null;
  };
  const uri = 'file:///home/me/gateway/config.yaml';
  h.window.activeTextEditor = { document: { languageId: 'yaml', uri: { scheme: 'file', toString: () => uri } } };
  // The language client calls the middleware with the arguments of the VS Code command: none
  // from the command palette.
  await middleware(CHECK_ONLINE, [], next);
  assert.deepEqual(sent, [[CHECK_ONLINE, [{ uri }]]]);

  // Arguments given by the caller are passed on as they are.
  sent.length = 0;
  await middleware(CHECK_ONLINE, [{ uri: 'file:///other.yaml' }], next);
  assert.deepEqual(sent, [[CHECK_ONLINE, [{ uri: 'file:///other.yaml' }]]]);
  assert.deepEqual(h.infos, []);
});

test('agw.checkOnline without a YAML editor says so and sends nothing', async () => {
  const h = harness();
  await activate(h.deps).ready();
  const middleware = h.clients[0].options.middleware!.executeCommand!;
  const sent: unknown[] = [];
  const next = (command: string, args: unknown[]) => sent.push([command, args]);
  await middleware(CHECK_ONLINE, [], next);
  h.window.activeTextEditor = {
    document: { languageId: 'markdown', uri: { scheme: 'file', toString: () => 'file:///README.md' } },
  };
  await middleware(CHECK_ONLINE, [], next);
  assert.deepEqual(sent, []);
  assert.equal(h.infos.length, 2);
  assert.match(h.infos[0], /YAML/);
});

test('changing agw.path restarts the server with the new binary', async () => {
  const h = harness();
  const ext = activate(h.deps);
  await ext.ready();
  h.change({ path: '/opt/agw' });
  await ext.ready();
  assert.equal(h.clients.length, 2);
  assert.equal(h.clients[0].stops, 1);
  assert.ok(!h.clients[0].running);
  assert.equal(executable(h.clients[1]).command, '/opt/agw');
  assert.ok(h.clients[1].running);
  assert.equal(ext.client(), h.clients[1]);
});

test('changing another agw setting does not restart the server', async () => {
  const h = harness();
  const ext = activate(h.deps);
  await ext.ready();
  h.change({ env: { A: 'b' }, gatewayVersion: '1.4.1' });
  await ext.ready();
  assert.equal(h.clients.length, 1);
  assert.equal(h.clients[0].stops, 0);
});

test('agw.restart starts a new server; deactivating stops it', async () => {
  const h = harness();
  const ext = activate(h.deps);
  await ext.ready();
  const restart = h.commands.get(RESTART);
  assert.ok(restart, 'agw.restart is registered');
  await restart();
  assert.equal(h.clients.length, 2);
  assert.equal(h.clients[0].stops, 1);
  await ext.stop();
  assert.equal(h.clients[1].stops, 1);
  assert.equal(ext.client(), undefined);
});

test('a server that cannot start shows an error naming agw.path and how to install agw', async () => {
  const h = harness({ path: '/nowhere/agw' }, 'Launching server using command /nowhere/agw failed. Error: spawn /nowhere/agw ENOENT');
  h.chooseOnError(OPEN_SETTINGS);
  const ext = activate(h.deps);
  await ext.ready();
  await flush();
  assert.equal(h.errors.length, 1);
  const { message, items } = h.errors[0];
  assert.match(message, /`agw\.path`/);
  assert.match(message, /\/nowhere\/agw lsp/);
  assert.match(message, /ENOENT/);
  assert.match(message, /cargo install --path \./);
  assert.match(message, /Install section/);
  assert.deepEqual(items, [OPEN_SETTINGS]);
  assert.deepEqual(h.executed.at(-1), ['workbench.action.openSettings', 'agw.path']);
  assert.ok(!h.executed.some((e) => e[0] === 'setContext' && e[2] === true));

  // A failed server is not stopped (there is none); fixing the path starts a new one.
  h.change({ path: '/usr/local/bin/agw' });
  await ext.ready();
  assert.equal(h.clients[0].stops, 0);
  assert.equal(h.clients.length, 2);
});

test('package.json contributes exactly the settings the server reads, with the same defaults', () => {
  const props = manifest.contributes.configuration.properties as Record<string, { default: unknown }>;
  const keys = Object.keys(props).filter((k) => k !== 'agw.path');
  assert.deepEqual(keys.sort(), Object.keys(DEFAULTS).map((k) => `agw.${k}`).sort());
  for (const [key, value] of Object.entries(DEFAULTS)) {
    assert.deepEqual(props[`agw.${key}`].default, value, key);
  }
  assert.equal(props['agw.path'].default, 'agw');
  assert.deepEqual((props['agw.gatewayVersion'] as { enum?: string[] }).enum, ['main', '1.4.1']);
});

test('package.json activates on YAML and contributes both commands', () => {
  assert.deepEqual(manifest.activationEvents, ['onLanguage:yaml']);
  assert.equal(manifest.main, './out/extension.js');
  const commands = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual(commands.sort(), [CHECK_ONLINE, RESTART].sort());
  // vsce refuses a manifest whose @types/vscode is newer than the VS Code it says it needs.
  const engine = manifest.engines.vscode.replace(/^\^/, '');
  const types = manifest.devDependencies['@types/vscode'];
  assert.ok(types.localeCompare(engine, undefined, { numeric: true }) <= 0, `${types} > ${engine}`);
});
