/**
 * The panel's UI strings. Every locale, English included, is its own module, loaded only when
 * chosen, so a visitor downloads exactly one (and the largest, Arabic, does not come on top of
 * English within the size budget). In the script-tag build each locale
 * file is pinned by its SRI hash, compiled into the panel (`__SEALCHAT_LOCALES__`); from npm, the
 * app's bundler resolves the imports below. See docs/widget-i18n.md.
 */
import { loadPinnedModule, type ModulePin } from './pinned-module.js';

/** Every string the panel shows, in one language. Keep them short and plain. */
export interface Strings {
  /** Writing direction of the language: the panel sets it as its `dir`. */
  readonly dir: 'ltr' | 'rtl';
  /** The close button's accessible name. */
  readonly close: string;
  /** Notice above an archive-mode chat. */
  readonly noticeArchive: string;
  /** Notice above an ephemeral-mode chat. */
  readonly noticeEphemeral: string;
  readonly reconnecting: string;
  readonly offline: string;
  /** The per-sender hash chains show the relay dropped something. */
  readonly missing: string;
  /** A record the relay served was refused (forged, misplaced or undecryptable). */
  readonly refused: string;
  /** No fresh roster head (docs/protocol.md §4.4): the visitor shares no keys, so nothing is sent. */
  readonly unconfirmed: string;
  /** Accessible name of the message log. */
  readonly messages: string;
  /** Author of the visitor's own messages. */
  readonly you: string;
  /** Author of the organisation's messages when the agent has no display name. */
  readonly agent: string;
  readonly sending: string;
  readonly sent: string;
  readonly delivered: string;
  readonly read: string;
  /** A message the outbox gave up on. */
  readonly failed: string;
  readonly retry: string;
  /** Accessible name of the composer. */
  readonly message: string;
  readonly placeholder: string;
  readonly send: string;
  readonly typing: (name: string) => string;
  /** Shown when no agent is online. */
  readonly away: string;
  readonly awayPlaceholder: string;
  readonly prechatTitle: string;
  readonly name: string;
  readonly email: string;
  readonly topic: string;
  /** Submits the pre-chat form. */
  readonly start: string;
  readonly invalidEmail: string;
  readonly required: string;
  /** After sending: how many card or account numbers were masked (count ≥ 1). */
  readonly masked: (count: number) => string;
  /** Accessible name of the overflow menu button. */
  readonly more: string;
  readonly deleteConversation: string;
  readonly deleteConfirm: string;
  readonly confirmDelete: string;
  readonly cancel: string;
  readonly deleted: string;
  readonly transcript: string;
  readonly noTranscript: string;
  readonly safetyCode: string;
  readonly safetyHelp: string;
  readonly soundOn: string;
  readonly soundOff: string;
  /** Jumps to the newest message when the log is scrolled up. */
  readonly newMessages: string;
}

export type Locale = 'en' | 'de' | 'fr' | 'es' | 'ar';

/** The locales the panel speaks, English first. */
export const LOCALES: readonly Locale[] = ['en', 'de', 'fr', 'es', 'ar'];

/** A locale file failed to load: missing, or not matching the hash pinned in the panel. */
export class LocaleLoadError extends Error {
  readonly code = 'SEALCHAT_E_LOCALE_LOAD';
  constructor(message: string) {
    super(message);
    this.name = 'LocaleLoadError';
  }
}

/**
 * Picks a supported locale: the attribute value if given (a BCP 47 tag; only its primary subtag
 * counts, so `de-CH` is `de`), else the first of `languages` (the browser's `navigator.languages`)
 * whose primary subtag is supported, else `en`. An empty attribute counts as not given.
 *
 * @throws TypeError naming the supported locales when the attribute names another one.
 */
export function pickLocale(attribute: string | null, languages: readonly string[]): Locale {
  if (attribute !== null && attribute.trim() !== '') {
    const locale = supported(attribute);
    if (locale) return locale;
    throw new TypeError(
      `Unsupported locale ${JSON.stringify(attribute)}: the chat speaks ${LOCALES.map((l) => `"${l}"`).join(', ')}`,
    );
  }
  for (const language of languages) {
    const locale = supported(language);
    if (locale) return locale;
  }
  return 'en';
}

function supported(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split(/[-_]/, 1)[0];
  return LOCALES.find((locale) => locale === primary);
}

declare const __SEALCHAT_LOCALES__: Partial<Record<Locale, ModulePin>> | undefined;
/**
 * The keys of {@link Strings} in en.ts's order, compiled in by the script-tag build, which writes each
 * locale file as an array of its values in that order: the keys then ship once, in the panel, not in
 * every locale file (a quarter of one, gzipped).
 */
declare const __SEALCHAT_STRING_KEYS__: readonly (keyof Strings)[];

// Written out one by one so that bundlers see each file and split it into its own chunk.
const bundled: Record<Locale, () => Promise<{ default: Strings }>> = {
  en: () => import('./locales/en.js'),
  de: () => import('./locales/de.js'),
  fr: () => import('./locales/fr.js'),
  es: () => import('./locales/es.js'),
  ar: () => import('./locales/ar.js'),
};

const loading = new Map<Locale, Promise<Strings>>();

/**
 * Loads a locale's strings, each locale once (a failed load may be retried). English is already
 * here; others come from their own file.
 *
 * @throws (rejects with) LocaleLoadError in the script-tag build when the file is missing or does
 *   not match its pinned hash; it has then not run.
 */
export function loadStrings(locale: Locale): Promise<Strings> {
  let strings = loading.get(locale);
  if (!strings) {
    strings = (
      typeof __SEALCHAT_LOCALES__ === 'undefined'
        ? bundled[locale]().then((module) => module.default)
        : loadPinnedStrings(locale, __SEALCHAT_LOCALES__[locale])
    ).catch((error: unknown) => {
      loading.delete(locale);
      throw error;
    });
    loading.set(locale, strings);
  }
  return strings;
}

/** The script-tag path of {@link loadStrings}. Internal; exported for tests. */
export async function loadPinnedStrings(locale: Locale, pin: ModulePin | undefined): Promise<Strings> {
  const failure = () =>
    new LocaleLoadError(`The chat's "${locale}" strings are missing or do not match their pinned hash.`);
  if (!pin) throw failure();
  // The hash pins this file to the one the build made from locales/*.ts: its default export is Strings,
  // or (what the build writes) their values in the order of __SEALCHAT_STRING_KEYS__.
  const strings = ((await loadPinnedModule(pin, failure)) as { default: Strings | unknown[] }).default;
  return Array.isArray(strings)
    ? (Object.fromEntries(__SEALCHAT_STRING_KEYS__.map((key, i) => [key, strings[i]])) as unknown as Strings)
    : strings;
}
