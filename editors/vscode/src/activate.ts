// The extension's logic, with VS Code and the language client passed in: `extension.ts` hands over
// the real ones, the unit tests hand over fakes, so this module is tested without VS Code. Only
// types are imported here; nothing of `vscode` is loaded at run time.
import type * as vscode from 'vscode';
import type {
  Executable,
  ExecuteCommandSignature,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

export const SECTION = 'agw';
/** The server's own command (`agw lsp` offers it in `executeCommandProvider`). */
export const CHECK_ONLINE = 'agw.checkOnline';
export const RESTART = 'agw.restart';
/** A `when`-clause context key: the palette offers `agw.checkOnline` only while the server runs. */
export const RUNNING_CONTEXT = 'agw.running';
export const OPEN_SETTINGS = 'Open Settings';

/** What `agw lsp` reads from `initializationOptions` and `workspace/didChangeConfiguration`. */
export interface ServerSettings {
  env: Record<string, string>;
  envFile: string | null;
  allowUnsetEnv: boolean;
  processEnv: boolean;
  root: string | null;
  allow: string[];
  deny: string[];
  gatewayVersion: string;
}

/** The defaults of `package.json`, for a configuration that lacks a key (the unit tests' fakes). */
export const DEFAULTS: ServerSettings = {
  env: {},
  envFile: null,
  allowUnsetEnv: false,
  processEnv: true,
  root: null,
  allow: [],
  deny: [],
  gatewayVersion: 'main',
};

/** The part of `LanguageClient` the extension uses. */
export interface Client {
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
  onDidChangeState(listener: () => void): { dispose(): unknown };
}

export type ClientConstructor = new (
  id: string,
  name: string,
  serverOptions: ServerOptions,
  clientOptions: LanguageClientOptions,
) => Client;

export interface Deps {
  vscode: {
    workspace: Pick<typeof vscode.workspace, 'getConfiguration' | 'onDidChangeConfiguration'>;
    window: Pick<typeof vscode.window, 'activeTextEditor' | 'showErrorMessage' | 'showInformationMessage'>;
    commands: Pick<typeof vscode.commands, 'registerCommand' | 'executeCommand'>;
  };
  LanguageClient: ClientConstructor;
  stdio: TransportKind;
}

export interface Extension {
  /** For `context.subscriptions`. */
  disposables: { dispose(): unknown }[];
  /** Settles when the last start, stop or restart asked for is done. */
  ready(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
  client(): Client | undefined;
}

type Configuration = Pick<vscode.WorkspaceConfiguration, 'get'>;

export function serverSettings(config: Configuration): ServerSettings {
  const get = <K extends keyof ServerSettings>(key: K): ServerSettings[K] =>
    config.get<ServerSettings[K]>(key) ?? DEFAULTS[key];
  return {
    env: get('env'),
    envFile: get('envFile'),
    allowUnsetEnv: get('allowUnsetEnv'),
    processEnv: get('processEnv'),
    root: get('root'),
    allow: get('allow'),
    deny: get('deny'),
    gatewayVersion: get('gatewayVersion'),
  };
}

export function serverPath(config: Configuration): string {
  // An emptied setting means "not set", not "run the program named ''".
  return config.get<string>('path')?.trim() || 'agw';
}

export function serverExecutable(config: Configuration, stdio: TransportKind): Executable {
  return { command: serverPath(config), args: ['lsp'], transport: stdio };
}

export function startFailureMessage(path: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return (
    `agw: cannot start the language server \`${path} lsp\` (${reason}). ` +
    'Set the `agw.path` setting to the agw binary, or install agw: `cargo install --path .` ' +
    "in a checkout of agw (the Install section of agw's README lists the other ways)."
  );
}

export function activate(deps: Deps): Extension {
  const { workspace, window, commands } = deps.vscode;
  let client: Client | undefined;
  let watch: { dispose(): unknown } | undefined;
  // Starts and stops run one after the other: a restart asked for while the server is still
  // starting waits for that start, so two servers never run at once. A step that failed (its
  // caller sees why) does not keep the later ones from running.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (step: () => Promise<void>): Promise<void> =>
    (queue = queue.catch(() => undefined).then(step));

  const setRunning = (running: boolean) =>
    void commands.executeCommand('setContext', RUNNING_CONTEXT, running);

  const checkOnline = (command: string, args: unknown[], next: ExecuteCommandSignature) => {
    // Called with arguments (a keybinding's `args`, another extension), it names its document.
    if (args.length > 0) {
      return next(command, args);
    }
    const doc = window.activeTextEditor?.document;
    if (!doc || doc.languageId !== 'yaml' || !['file', 'untitled'].includes(doc.uri.scheme)) {
      void window.showInformationMessage('agw: open an agentgateway YAML file to check it online.');
      return undefined;
    }
    return next(command, [{ uri: doc.uri.toString() }]);
  };

  const clientOptions = (): LanguageClientOptions => ({
    documentSelector: [
      { scheme: 'file', language: 'yaml' },
      { scheme: 'untitled', language: 'yaml' },
    ],
    // A function, so that the client's own restart after a crash sends the settings as they are
    // by then, not as they were at activation.
    initializationOptions: () => ({ [SECTION]: serverSettings(workspace.getConfiguration(SECTION)) }),
    synchronize: { configurationSection: SECTION },
    middleware: {
      executeCommand: (command, args, next) =>
        command === CHECK_ONLINE ? checkOnline(command, args, next) : next(command, args),
    },
  });

  const start = async () => {
    const config = workspace.getConfiguration(SECTION);
    const path = serverPath(config);
    const server = serverExecutable(config, deps.stdio);
    const c = new deps.LanguageClient('agw', 'agw', { run: server, debug: server }, clientOptions());
    client = c;
    // The state, not the end of start(): a server that dies later (and that the client gives up
    // restarting) takes its command with it, and the palette should stop offering it.
    watch = c.onDidChangeState(() => {
      if (client === c) {
        setRunning(c.isRunning());
      }
    });
    try {
      await c.start();
    } catch (error) {
      // Not awaited: the message stays until the user closes it, and nothing else waits on it.
      void window.showErrorMessage(startFailureMessage(path, error), OPEN_SETTINGS).then((choice) => {
        if (choice === OPEN_SETTINGS) {
          void commands.executeCommand('workbench.action.openSettings', `${SECTION}.path`);
        }
      });
    }
  };

  const stop = async () => {
    const c = client;
    client = undefined;
    watch?.dispose();
    watch = undefined;
    setRunning(false);
    // A client whose start failed has no server to stop (and its stop() rejects).
    if (c?.isRunning()) {
      try {
        await c.stop();
      } catch {
        // The client has already logged why (a server that did not answer `shutdown` in time);
        // the next server starts regardless.
      }
    }
  };

  const restart = () => enqueue(async () => {
    await stop();
    await start();
  });

  const disposables = [
    commands.registerCommand(RESTART, () => restart()),
    workspace.onDidChangeConfiguration((e) => {
      // The other settings reach the running server as `workspace/didChangeConfiguration`; the
      // binary is the one thing a running server cannot change.
      if (e.affectsConfiguration(`${SECTION}.path`)) {
        void restart();
      }
    }),
  ];
  void restart();

  return {
    disposables,
    ready: () => queue,
    restart,
    stop: () => enqueue(stop),
    client: () => client,
  };
}
