/**
 * What the bot knows: a small table of questions it can answer, matched by keyword, and the words
 * that ask for a person. Matching is deliberately dumb (whole words, no stemming, no model): a bot
 * that answers the wrong question is worse than one that hands off.
 */

/** One question the bot can answer. */
export interface FaqEntry {
  /** Stable identifier, for operators (never logged with the visitor's words). */
  readonly id: string;
  /** How the bot names the topic when it lists what it can do, e.g. "opening hours". */
  readonly topic: string;
  /** Words or phrases that select this entry, matched as whole words, case-insensitively. */
  readonly keywords: readonly string[];
  readonly answer: string;
}

/** What the bot makes of one visitor message. */
export type Verdict =
  { readonly kind: 'answer'; readonly entry: FaqEntry } | { readonly kind: 'hand-off' } | { readonly kind: 'miss' };

/** A visitor who writes one of these wants a person, whatever else the message says. */
export const HAND_OFF_WORDS: readonly string[] = ['human', 'agent', 'person', 'someone', 'operator', 'staff'];

export const DEFAULT_FAQS: readonly FaqEntry[] = [
  {
    id: 'opening-hours',
    topic: 'opening hours',
    keywords: ['opening hours', 'hours', 'open', 'opening', 'close', 'closing', 'closed'],
    answer:
      'We are open Monday to Friday 9:00–18:00 and Saturday 10:00–16:00. We are closed on Sundays and public holidays.',
  },
  {
    id: 'shipping',
    topic: 'shipping',
    keywords: ['shipping', 'ship', 'ships', 'delivery', 'deliver', 'postage', 'tracking', 'track', 'parcel'],
    answer:
      'Orders leave within 1–2 working days. Standard delivery takes 3–5 working days and is free over €50; ' +
      'express (next working day) costs €9.90. You get a tracking link by email when your parcel ships.',
  },
  {
    id: 'returns',
    topic: 'returns',
    keywords: ['return', 'returns', 'returning', 'refund', 'refunds', 'exchange', 'send back'],
    answer:
      'You can return unused items within 30 days for a full refund: start the return from the link in your ' +
      'order email. The refund reaches your account within 5 working days of the parcel arriving.',
  },
];

/** Most entries a table may hold, and the longest answer: the bot sends answers as chat messages. */
export const MAX_FAQ_ENTRIES = 200;
export const MAX_ANSWER_LENGTH = 2000;

/** Lower case, compatibility-normalised, every run of non-letters and non-digits a single space, padded. */
function words(text: string): string {
  return ` ${text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()} `;
}

/**
 * Decides what to do with a visitor's message: hand off when it asks for a person, else answer the
 * entry with the most matching keywords (the first one on a tie), else a miss.
 */
export function classify(text: string, faqs: readonly FaqEntry[]): Verdict {
  const said = words(text);
  const has = (keyword: string): boolean => said.includes(words(keyword));
  if (HAND_OFF_WORDS.some(has)) return { kind: 'hand-off' };
  let best: FaqEntry | undefined;
  let bestScore = 0;
  for (const entry of faqs) {
    const score = entry.keywords.filter(has).length;
    if (score > bestScore) {
      best = entry;
      bestScore = score;
    }
  }
  return best ? { kind: 'answer', entry: best } : { kind: 'miss' };
}

/**
 * Parses a FAQ table read from JSON: an array of `{ id, topic, keywords, answer }`.
 * @throws TypeError naming the first bad entry and field.
 */
export function parseFaqTable(value: unknown): FaqEntry[] {
  if (!Array.isArray(value) || value.length === 0) throw new TypeError('must be a non-empty JSON array of entries');
  if (value.length > MAX_FAQ_ENTRIES) throw new TypeError(`has ${value.length} entries; at most ${MAX_FAQ_ENTRIES}`);
  return value.map((item: unknown, index): FaqEntry => {
    const where = `entry ${index}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new TypeError(`${where} is not an object`);
    const entry = item as Record<string, unknown>;
    const text = (field: string, max: number): string => {
      const v = entry[field];
      if (typeof v !== 'string' || v.trim() === '' || v.length > max) {
        throw new TypeError(`${where}: "${field}" must be a non-empty string of at most ${max} characters`);
      }
      return v;
    };
    const keywords = entry['keywords'];
    if (
      !Array.isArray(keywords) ||
      keywords.length === 0 ||
      !keywords.every((k): k is string => typeof k === 'string' && words(k).trim() !== '')
    ) {
      throw new TypeError(`${where}: "keywords" must be a non-empty array of words`);
    }
    return {
      id: text('id', 100),
      topic: text('topic', 100),
      keywords: [...keywords],
      answer: text('answer', MAX_ANSWER_LENGTH),
    };
  });
}
