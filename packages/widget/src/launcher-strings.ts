import type { Locale } from './i18n.js';

/**
 * The launcher's few words in every language: the launcher shows before the panel (and its lazily
 * loaded strings) exist, so these ship with it.
 */
export const launcherStrings: Record<Locale, { heading: string; close: string; unread: (n: number) => string }> = {
  en: { heading: 'Chat with us', close: 'Close chat', unread: (n) => `${n} unread` },
  de: { heading: 'Chatten Sie mit uns', close: 'Chat schließen', unread: (n) => `${n} ungelesen` },
  fr: { heading: 'Discutez avec nous', close: 'Fermer le chat', unread: (n) => `${n} non lu${n > 1 ? 's' : ''}` },
  es: { heading: 'Chatea con nosotros', close: 'Cerrar el chat', unread: (n) => `${n} sin leer` },
  ar: { heading: 'تحدّث معنا', close: 'إغلاق المحادثة', unread: (n) => `${n} غير مقروءة` },
};
