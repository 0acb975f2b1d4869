/**
 * Loads a file of the script-tag build only after the browser has checked it against a hash
 * compiled into the code asking for it. The site owner pins the launcher with SRI; the launcher
 * pins the panel, the panel pins each locale: a file nobody pinned cannot run.
 */

/** A file of the script-tag build and its SRI hash (`sha384-…`), compiled in by the build. */
export interface ModulePin {
  /** Resolved against the loading module: every file of the build sits side by side. */
  readonly file: string;
  readonly integrity: string;
}

/**
 * Fetches `pin.file` through `<link rel="modulepreload" integrity=…>`, then imports it from the
 * module map the checked preload filled, so there is no second, unchecked fetch.
 *
 * @returns the module's namespace object.
 * @throws what `failure()` returns (the caller's typed error) when the file cannot be fetched or
 *   does not match its hash; the module has then not run.
 */
export async function loadPinnedModule(pin: ModulePin, failure: () => Error): Promise<unknown> {
  const url = new URL(pin.file, import.meta.url).href;
  await new Promise<void>((resolve, reject) => {
    const link = document.createElement('link');
    link.rel = 'modulepreload';
    link.crossOrigin = 'anonymous';
    link.integrity = pin.integrity;
    link.href = url;
    link.addEventListener('load', () => resolve());
    link.addEventListener('error', () => reject(failure()));
    document.head.append(link);
  });
  return (await import(/* @vite-ignore */ url)) as unknown;
}
