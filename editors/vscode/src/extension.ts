import * as vscode from 'vscode';
import { LanguageClient, TransportKind } from 'vscode-languageclient/node';

import { activate as activateWith, Extension } from './activate';

let extension: Extension | undefined;

export function activate(context: vscode.ExtensionContext): void {
  extension = activateWith({ vscode, LanguageClient, stdio: TransportKind.stdio });
  context.subscriptions.push(...extension.disposables);
}

export function deactivate(): Promise<void> | undefined {
  return extension?.stop();
}
