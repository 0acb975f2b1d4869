/**
 * Hides card numbers, IBANs and site-defined patterns in what a visitor types, in the visitor's
 * browser, before the text is encrypted: what is masked here never reaches an agent, an archive or
 * a transcript. Detection is deliberately checksum-based (Luhn, ISO 13616 mod-97), so an order
 * number or a phone number that merely looks long is left alone.
 */
import { SealchatError } from '@sealchat/protocol';

/** A site-defined pattern whose matches are hidden before sending. */
export interface MaskRule {
  /** Where the rule came from, for messages (`mask-patterns[2]` for parsed ones). */
  readonly name: string;
  readonly pattern: RegExp;
}

/** The `mask-patterns` attribute is not a JSON array of usable regular expressions. */
export class MaskRuleError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEALCHAT_E_MASK_RULE', message, options);
  }
}

/** Limits on `mask-patterns`, so one attribute cannot make every keystroke slow. */
export interface MaskPatternLimits {
  /** Most patterns accepted. Default 20. */
  readonly maxPatterns?: number;
  /** Longest pattern source, in UTF-16 code units. Default 200. */
  readonly maxPatternLength?: number;
}

/** Which masks {@link maskText} applies. */
export interface MaskTextOptions {
  /** Luhn-valid card numbers. Default true. */
  readonly cards?: boolean;
  /** Mod-97-valid IBANs. Default true. */
  readonly ibans?: boolean;
  /** Site-defined rules, applied after the built-in masks (so they may hide the visible last 4 too). */
  readonly custom?: readonly MaskRule[];
}

const MASK = '•';
const CUSTOM_MASK_CAP = 32;
// Matched against the empty string and this probe, to refuse rules that match nothing at all
// (a lookaround, `\b`): they would "mask" text without hiding a character.
const EMPTY_MATCH_PROBE = 'aZ 09 .-_@\n';

/**
 * Parses the widget's `mask-patterns` attribute: a JSON array of regular-expression sources, each
 * compiled with the flags `gu`. Site owners' patterns run on every message, so keep them simple:
 * the length and count limits bound the cost, they cannot rule out a pattern that backtracks badly.
 *
 * @throws MaskRuleError when the attribute is not JSON, not an array, has too many entries, or an
 *   entry (named by its index) is not a string, is empty, too long, not a valid regular expression,
 *   or matches the empty string.
 */
export function parseMaskPatterns(attribute: string, limits: MaskPatternLimits = {}): MaskRule[] {
  const maxPatterns = limits.maxPatterns ?? 20;
  const maxLength = limits.maxPatternLength ?? 200;
  let parsed: unknown;
  try {
    parsed = JSON.parse(attribute);
  } catch (error) {
    throw new MaskRuleError(
      `mask-patterns must be a JSON array of strings, like ["ORD-\\\\d{6}"]: it is not valid JSON`,
      { cause: error },
    );
  }
  if (!Array.isArray(parsed)) throw new MaskRuleError('mask-patterns must be a JSON array of strings');
  const sources: readonly unknown[] = parsed;
  if (sources.length > maxPatterns)
    throw new MaskRuleError(`mask-patterns has ${sources.length} patterns; at most ${maxPatterns} are allowed`);
  return sources.map((source, index) => {
    const name = `mask-patterns[${index}]`;
    if (typeof source !== 'string') throw new MaskRuleError(`${name} must be a string, not ${describe(source)}`);
    if (source === '') throw new MaskRuleError(`${name} is empty`);
    if (source.length > maxLength)
      throw new MaskRuleError(`${name} is ${source.length} characters long; at most ${maxLength} are allowed`);
    let pattern: RegExp;
    try {
      pattern = new RegExp(source, 'gu');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MaskRuleError(`${name} is not a valid regular expression: ${reason}`, { cause: error });
    }
    if (matchesEmpty(pattern)) throw new MaskRuleError(`${name} matches the empty string`);
    return { name, pattern };
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${JSON.stringify(value)}`;
}

function matchesEmpty(pattern: RegExp): boolean {
  if (new RegExp(pattern.source, 'u').test('')) return true;
  for (const match of EMPTY_MATCH_PROBE.matchAll(pattern)) if (match[0] === '') return true;
  return false;
}

/**
 * Hides sensitive numbers in `text`. What is left visible:
 *
 * - a card number (13–19 digits, Luhn-valid, optionally grouped by single spaces or dashes) becomes
 *   `•••• •••• •••• 1111`: the last 4 digits as typed, whatever the length or grouping, so not even
 *   the card's length shows;
 * - an IBAN (country code, 2 check digits, 11–30 letters or digits, compact or spaced every 4,
 *   mod-97-valid) becomes `DE•• •••• •••• 3000`: the country code and the last 4 characters;
 * - a match of a custom rule becomes one `•` per character, at most 32.
 *
 * A digit run directly after `+` is taken for an international phone number and left alone, as is
 * anything longer than a card (a run of more than 19 digits is not part of a card). Arabic-Indic and
 * full-width digits count as digits. Runs in time linear in `text` (the built-in patterns cannot
 * backtrack more than a constant per position); custom rules cost what their patterns cost.
 *
 * @returns the masked text and how many numbers or matches were hidden.
 */
export function maskText(text: string, options: MaskTextOptions = {}): { text: string; masked: number } {
  let masked = 0;
  let out = text;
  if (options.ibans ?? true) {
    const result = maskIbans(out);
    out = result.text;
    masked += result.masked;
  }
  if (options.cards ?? true) {
    const result = maskCards(out);
    out = result.text;
    masked += result.masked;
  }
  for (const rule of options.custom ?? []) {
    const { pattern } = rule;
    // A caller-built rule may lack the g flag; replace() would then hide only the first match.
    const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
    out = out.replace(global, (match: string) => {
      if (match === '') return match;
      masked++;
      return MASK.repeat(Math.min(codePoints(match), CUSTOM_MASK_CAP));
    });
  }
  return { text: out, masked };
}

/** Characters as a reader counts them, near enough: a surrogate pair (an emoji, say) is one. */
function codePoints(text: string): number {
  return Array.from(text).length;
}

// Decimal digits as visitors type them: ASCII, Arabic-Indic, Extended Arabic-Indic and full-width.
// Each range starts at a code point divisible by 16, so a digit's value is its code point & 15.
const DIGITS = '0-9\u0660-\u0669\u06F0-\u06F9\uFF10-\uFF19';
/** A run of digit groups joined by single spaces or dashes. */
const DIGIT_RUN = new RegExp(`[${DIGITS}]+(?:[ -][${DIGITS}]+)*`, 'g');

/** Whether `digits` (any of the scripts above) pass the Luhn check. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) & 15;
    sum += i % 2 ? (d > 4 ? d * 2 - 9 : d * 2) : d;
  }
  return sum % 10 === 0;
}

/**
 * In each digit run (not right after `+`), from each group on, the longest span of whole groups
 * with 13–19 digits that passes Luhn is a card.
 */
function maskCards(text: string): { text: string; masked: number } {
  let masked = 0;
  const out = text.replace(DIGIT_RUN, (run: string, at: number) => {
    if (text[at - 1] === '+') return run;
    const groups = run.split(/[ -]/);
    const separators = run.match(/[ -]/g) ?? [];
    let result = '';
    for (let g = 0; g < groups.length;) {
      let card = -1;
      for (let k = g, digits = ''; k < groups.length && (digits += groups[k]!).length <= 19; k++)
        if (digits.length >= 13 && luhn(digits)) card = k;
      if (card < 0) {
        result += groups[g]! + (separators[g] ?? '');
        g++;
        continue;
      }
      masked++;
      result += `•••• •••• •••• ${groups
        .slice(g, card + 1)
        .join('')
        .slice(-4)}${separators[card] ?? ''}`;
      g = card + 1;
    }
    return result;
  });
  return { text: out, masked };
}

// Country code and check digits, then either one compact token of 11–30 characters, or 3–8 space-
// separated tokens of 1–4 characters (which ones form the IBAN is decided in code, longest first).
// Each alternative is bounded, and the lookbehind only lets a match start at a token: linear.
const IBAN_CANDIDATE =
  /(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[A-Za-z0-9]{11,30}(?![A-Za-z0-9])|(?: [A-Za-z0-9]{1,4}(?![A-Za-z0-9])){3,8})/g;
const BBAN_MIN = 11;
const BBAN_MAX = 30;

function maskIbans(text: string): { text: string; masked: number } {
  let masked = 0;
  let out = '';
  let copied = 0;
  const candidates = new RegExp(IBAN_CANDIDATE);
  for (let match = candidates.exec(text); match; match = candidates.exec(text)) {
    const found = longestIban(match[0]);
    if (found === undefined) {
      // A shorter IBAN may start at a later token inside this candidate.
      candidates.lastIndex = match.index + 1;
      continue;
    }
    const compact = found.replaceAll(' ', '');
    out += `${text.slice(copied, match.index)}${compact.slice(0, 2)}•• •••• •••• ${compact.slice(-4)}`;
    copied = match.index + found.length;
    candidates.lastIndex = copied;
    masked++;
  }
  return { text: out + text.slice(copied), masked };
}

/** The longest prefix of a candidate that is a valid IBAN (spaced: full groups of 4, the last 1–4). */
function longestIban(candidate: string): string | undefined {
  // ISO 13616-1: move the country code and check digits to the end, read letters as 10–35, and the
  // number must be 1 modulo 97 (ISO 7064 MOD 97-10). Kept as a running remainder over the BBAN, so
  // every possible end is checked in one pass and no big integers are needed.
  const head = candidate.slice(0, 4);
  let remainder = 0;
  let length = 0;
  let longest: number | undefined;
  for (let at = 4; at <= candidate.length; at++) {
    const char = at < candidate.length ? candidate[at]! : ' ';
    if (char !== ' ') {
      remainder = mod97(remainder, char);
      length++;
      continue;
    }
    if (length >= BBAN_MIN && length <= BBAN_MAX) {
      let check = remainder;
      for (const headChar of head) check = mod97(check, headChar);
      if (check === 1) longest = at;
    }
    // Spaced, every group but the last is exactly 4 long: a short group ends the IBAN.
    if (at > 4 && (at - 4) % 5 !== 0) break;
  }
  return longest === undefined ? undefined : candidate.slice(0, longest);
}

function mod97(remainder: number, char: string): number {
  const code = char.charCodeAt(0) | 0x20; // lower case; digits are unchanged
  return code <= 0x39 ? (remainder * 10 + code - 0x30) % 97 : (remainder * 100 + code - 0x57) % 97;
}
