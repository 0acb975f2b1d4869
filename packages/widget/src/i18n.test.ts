import { describe, expect, it } from 'vitest';
import { LOCALES, loadStrings, pickLocale, type Strings } from './i18n.js';
import en from './locales/en.js';

describe('pickLocale', () => {
  it('takes the attribute first, by its primary subtag, in any case', () => {
    expect(pickLocale('de', ['fr-FR'])).toBe('de');
    expect(pickLocale('de-CH', [])).toBe('de');
    expect(pickLocale('AR', ['en'])).toBe('ar');
    expect(pickLocale(' es-419 ', ['de'])).toBe('es');
    expect(pickLocale('en', ['de'])).toBe('en');
  });

  it('refuses an unsupported attribute with a TypeError naming the supported locales', () => {
    for (const attribute of ['pt', 'pt-BR', 'english', 'deu', '-']) {
      expect(() => pickLocale(attribute, ['de'])).toThrow(TypeError);
      expect(() => pickLocale(attribute, ['de'])).toThrow(/"en", "de", "fr", "es", "ar"/);
    }
  });

  it('otherwise follows the browser: the first language whose primary subtag is supported', () => {
    expect(pickLocale(null, ['pt-BR', 'fr-CA', 'de'])).toBe('fr');
    expect(pickLocale(null, ['ar-EG'])).toBe('ar');
    expect(pickLocale('', ['es-MX'])).toBe('es');
    expect(pickLocale(null, ['en-GB', 'de'])).toBe('en');
  });

  it('falls back to English', () => {
    expect(pickLocale(null, [])).toBe('en');
    expect(pickLocale(null, ['ja-JP', 'zh-Hans-CN'])).toBe('en');
  });
});

describe('locales', () => {
  it('lists English first and loads it as is', async () => {
    expect(LOCALES[0]).toBe('en');
    expect(await loadStrings('en')).toBe(en);
  });

  for (const locale of LOCALES) {
    describe(locale, () => {
      it('has every key of English with the same type, and no other', async () => {
        const strings: Strings = await loadStrings(locale);
        expect(Object.keys(strings).sort()).toEqual(Object.keys(en).sort());
        for (const key of Object.keys(en) as (keyof Strings)[]) {
          expect(typeof strings[key], key).toBe(typeof en[key]);
        }
      });

      it('has no empty string, and functions that say something', async () => {
        const strings = await loadStrings(locale);
        for (const [key, value] of Object.entries(strings)) {
          if (typeof value === 'string') expect(value.trim(), key).not.toBe('');
        }
        expect(strings.typing('Ana')).toContain('Ana');
        expect(strings.typing('Ana').replace('Ana', '').trim()).not.toBe('');
        expect(strings.masked(1)).not.toBe(strings.masked(3));
        for (const count of [1, 2, 3, 11, 100]) expect(strings.masked(count).trim()).not.toBe('');
      });

      it('states its direction: right to left for Arabic only', async () => {
        expect((await loadStrings(locale)).dir).toBe(locale === 'ar' ? 'rtl' : 'ltr');
      });

      it('is not a copy of English', async () => {
        const strings = await loadStrings(locale);
        if (locale !== 'en') expect(strings.close).not.toBe(en.close);
      });
    });
  }

  it('loads each locale once', () => {
    expect(loadStrings('de')).toBe(loadStrings('de'));
  });
});
