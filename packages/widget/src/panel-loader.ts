/**
 * Loads the chat panel (Lit, the client, the crypto) only when it is needed, keeping the code the
 * visitor downloads before the first click tiny.
 *
 * In the script-tag build the site owner pins the launcher with SRI, and the build compiles the
 * panel file's SRI hash into the launcher (`__SEALCHAT_PANEL__`). The panel is then fetched through
 * `<link rel="modulepreload" integrity=…>` before it is imported, so the browser checks it too: code
 * the site owner never pinned cannot run. From npm, the app's bundler resolves the import instead.
 */
import { loadPinnedModule, type ModulePin } from './pinned-module.js';

declare const __SEALCHAT_PANEL__: ModulePin | undefined;

/** The panel could not be fetched, or did not match its pinned hash. */
export class PanelLoadError extends Error {
  readonly code = 'SEALCHAT_E_PANEL_LOAD';
  constructor(message: string) {
    super(message);
    this.name = 'PanelLoadError';
  }
}

let loading: Promise<void> | undefined;

/** Resolves once `<sealchat-panel>` is defined. Safe to call many times; a failure can be retried. */
export function loadPanel(): Promise<void> {
  loading ??= (typeof __SEALCHAT_PANEL__ === 'undefined' ? loadBundled() : loadPinned(__SEALCHAT_PANEL__)).catch(
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

async function loadBundled(): Promise<void> {
  await import('./panel-define.js');
}

async function loadPinned(pin: ModulePin): Promise<void> {
  await loadPinnedModule(
    pin,
    () => new PanelLoadError('The chat could not be loaded: its code is missing or does not match its pinned hash.'),
  );
}
