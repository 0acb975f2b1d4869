import { describe, expect, it } from 'vitest';
import { LocaleLoadError, loadPinnedStrings, loadStrings } from './i18n.js';

async function sri(source: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-384', new TextEncoder().encode(source));
  return `sha384-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
}

function moduleUrl(source: string): string {
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

describe('loadStrings in a browser', () => {
  it('loads Arabic on demand, right to left, once', async () => {
    const loading = loadStrings('ar');
    expect(loadStrings('ar')).toBe(loading);
    const strings = await loading;
    expect(strings.dir).toBe('rtl');
    expect(strings.send).toBe('إرسال');
  });

  it('loads a pinned locale file that matches its hash', async () => {
    const source = 'export default { dir: "rtl", send: "pinned" };';
    const strings = await loadPinnedStrings('ar', { file: moduleUrl(source), integrity: await sri(source) });
    expect(strings).toMatchObject({ dir: 'rtl', send: 'pinned' });
  });

  it('loads a pinned locale file the build wrote as values in the compiled-in key order', async () => {
    // The script-tag build defines __SEALCHAT_STRING_KEYS__; here it is a global for the test's length.
    const scope = globalThis as { __SEALCHAT_STRING_KEYS__?: readonly string[] };
    scope.__SEALCHAT_STRING_KEYS__ = ['dir', 'send', 'typing'];
    try {
      const source = 'export default ["rtl", "pinned", (name) => `${name} types`];';
      const strings = await loadPinnedStrings('ar', { file: moduleUrl(source), integrity: await sri(source) });
      expect(strings).toMatchObject({ dir: 'rtl', send: 'pinned' });
      expect(strings.typing('Ana')).toBe('Ana types');
    } finally {
      delete scope.__SEALCHAT_STRING_KEYS__;
    }
  });

  it('refuses a tampered locale file with LocaleLoadError, before any of it runs', async () => {
    const genuine = 'export default { dir: "ltr" };';
    const tampered = 'window.__sealchatTampered = true; export default { dir: "ltr" };';
    const loading = loadPinnedStrings('de', { file: moduleUrl(tampered), integrity: await sri(genuine) });
    await expect(loading).rejects.toBeInstanceOf(LocaleLoadError);
    await expect(loading).rejects.toMatchObject({ code: 'SEALCHAT_E_LOCALE_LOAD' });
    expect((window as { __sealchatTampered?: boolean }).__sealchatTampered).toBeUndefined();
  });

  it('refuses a locale the build did not pin', async () => {
    await expect(loadPinnedStrings('fr', undefined)).rejects.toBeInstanceOf(LocaleLoadError);
  });
});
