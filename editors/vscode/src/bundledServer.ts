// The editor's side of the bundled daemon (serverInstall.ts): the Python extension's
// interpreter, the progress notification, and the message when it cannot be installed.

import * as vscode from 'vscode';
import { ensureServer, InstallError, readManifest } from './serverInstall';

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?: () => { path: string } | undefined;
    resolveEnvironment?: (env: { path: string }) => Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

/** The interpreter chosen in the Python extension (ms-python.python), when it is installed. */
async function pythonExtensionInterpreter(log: vscode.LogOutputChannel): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) {
    return undefined;
  }
  const lookup = async (): Promise<string | undefined> => {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const active = api.environments?.getActiveEnvironmentPath?.();
    if (!active) {
      return undefined;
    }
    const resolved = await api.environments?.resolveEnvironment?.(active);
    return resolved?.executable?.uri?.fsPath ?? active.path;
  };
  try {
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000));
    return await Promise.race([lookup(), timeout]);
  } catch (err) {
    log.warn(`the Python extension did not name an interpreter: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

export type Bundled = { command: string } | { error: string } | undefined;

/**
 * The bundled daemon's executable (installed on first start), `{ error }` when it cannot be
 * installed, or undefined when this VSIX has no bundled daemon (a developer build).
 */
export async function bundledServer(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<Bundled> {
  const manifest = readManifest(context.extensionPath);
  if (!manifest) {
    return undefined;
  }
  try {
    const ensured = await ensureServer({
      extensionPath: context.extensionPath,
      extensionVersion: String(context.extension.packageJSON.version),
      storageDir: context.globalStorageUri.fsPath,
      platform: process.platform,
      manifest,
      pythonFromExtension: () => pythonExtensionInterpreter(log),
      log: (line) => log.info(line),
      installing: (work) =>
        Promise.resolve(
          vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: 'ardaemon: setting up the daemon (first start)' },
            (progress) => work((message) => progress.report({ message })),
          ),
        ),
    });
    return { command: ensured.command };
  } catch (err) {
    const message =
      err instanceof InstallError ? err.message : `ardaemon: setting up the bundled daemon failed: ${String(err)}`;
    log.error(message);
    return { error: message };
  }
}
