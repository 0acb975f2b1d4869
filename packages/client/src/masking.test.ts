import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MaskRuleError, maskText, parseMaskPatterns, type MaskRule } from './masking.js';

const CARD_MASK = '•••• •••• •••• ';

/** A Luhn check digit appended to `body`. */
function withLuhn(body: string): string {
  for (let check = 0; check < 10; check++) {
    const candidate = `${body}${check}`;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let value = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) value = value * 2 > 9 ? value * 2 - 9 : value * 2;
      sum += value;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}

function group(digits: string, sizes: readonly number[], separator: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  return parts.join(separator);
}

describe('maskText: card numbers', () => {
  const cards = [
    { name: 'Visa', digits: '4111111111111111', sizes: [4, 4, 4, 4] },
    { name: 'Mastercard', digits: '5555555555554444', sizes: [4, 4, 4, 4] },
    { name: 'Amex', digits: '378282246310005', sizes: [4, 6, 5] },
  ];

  for (const { name, digits, sizes } of cards) {
    it(`hides a ${name} number written compact, spaced or dashed, keeping the last 4 and the text around it`, () => {
      for (const written of [digits, group(digits, sizes, ' '), group(digits, sizes, '-')]) {
        const result = maskText(`My card is ${written}, thanks!`);
        expect(result).toEqual({ text: `My card is ${CARD_MASK}${digits.slice(-4)}, thanks!`, masked: 1 });
        // Nothing of the number but its last 4 digits survives.
        expect(result.text.replace(/\D/g, '')).toBe(digits.slice(-4));
      }
    });
  }

  it('hides a card at the very start or end of the text, and several cards in one message', () => {
    expect(maskText('4111111111111111')).toEqual({ text: `${CARD_MASK}1111`, masked: 1 });
    expect(maskText('old 5555 5555 5555 4444\nnew 3782 822463 10005').text).toBe(
      `old ${CARD_MASK}4444\nnew ${CARD_MASK}0005`,
    );
    expect(maskText('old 5555 5555 5555 4444\nnew 3782 822463 10005').masked).toBe(2);
  });

  it('leaves Luhn-invalid numbers alone: order numbers, a mistyped card', () => {
    for (const text of ['Order 1234567812345678 shipped', 'is it 4111 1111 1111 1112?', 'ref 1234-5678-1234-5678']) {
      expect(maskText(text)).toEqual({ text, masked: 0 });
    }
  });

  it('leaves phone numbers alone, even a Luhn-valid one in international form', () => {
    for (const text of [
      'Call me on +49 1511 2345 678', // 13 digits, and Luhn-valid: the + marks it a phone number
      'Call +44 20 7946 0958 or 030 1234 5678',
      'US: (555) 123-4567, DE: 0049 30 1234 5678',
    ]) {
      expect(maskText(text)).toEqual({ text, masked: 0 });
    }
  });

  it('does not take a card out of a longer digit run, nor mask too-short or too-long numbers', () => {
    for (const text of ['id 41111111111111111234', 'id 1411111111111111112', '411111111111']) {
      expect(maskText(text)).toEqual({ text, masked: 0 });
    }
  });

  it('finds a card next to other numbers in the same spaced run', () => {
    expect(maskText('qty 2 4111 1111 1111 1111 5').text).toBe(`qty 2 ${CARD_MASK}1111 5`);
  });

  it('hides cards typed with Arabic-Indic or full-width digits', () => {
    expect(maskText('٤١١١ ١١١١ ١١١١ ١١١١').text).toBe(`${CARD_MASK}١١١١`);
    expect(maskText('４１１１１１１１１１１１１１１１').text).toBe(`${CARD_MASK}１１１１`);
  });

  it('can be switched off', () => {
    expect(maskText('4111111111111111', { cards: false })).toEqual({ text: '4111111111111111', masked: 0 });
  });

  it('masks every Luhn-valid 13–19 digit number, however grouped, and no Luhn-invalid one (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 12, maxLength: 18 }).map((d) => d.join('')),
        fc.constantFrom(' ', '-', ''),
        fc.boolean(),
        (body, separator, valid) => {
          const luhn = withLuhn(body);
          const digits = valid ? luhn : `${luhn.slice(0, -1)}${(Number(luhn.slice(-1)) + 1) % 10}`;
          const written = separator === '' ? digits : digits.replace(/(\d{4})(?=\d)/g, `$1${separator}`);
          const { text, masked } = maskText(`pay ${written} now`);
          if (valid) {
            expect(text).toBe(`pay ${CARD_MASK}${digits.slice(-4)} now`);
            expect(masked).toBe(1);
          } else if (separator === '') {
            // (Grouped, a Luhn-invalid number may still hold a valid card made of its first groups.)
            expect(text).toBe(`pay ${written} now`);
          }
        },
      ),
    );
  });
});

describe('maskText: IBANs', () => {
  const ibans = [
    'DE89370400440532013000',
    'GB82WEST12345698765432',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
  ];

  for (const iban of ibans) {
    it(`hides ${iban.slice(0, 2)} IBAN ${iban}, compact, spaced, lower case; only the country and last 4 stay`, () => {
      const spaced = iban.replace(/(.{4})(?=.)/g, '$1 ');
      for (const written of [iban, spaced, spaced.toLowerCase()]) {
        const result = maskText(`IBAN: ${written}. Thanks`);
        const country = written.slice(0, 2);
        expect(result).toEqual({
          text: `IBAN: ${country}•• •••• •••• ${written.replaceAll(' ', '').slice(-4)}. Thanks`,
          masked: 1,
        });
      }
    });
  }

  it('leaves an IBAN with a wrong check digit alone, and does not then mask its digits as a card', () => {
    for (const text of ['DE88370400440532013000', 'DE88 3704 0044 0532 0130 00', 'GB83WEST12345698765432']) {
      expect(maskText(`pay to ${text}`)).toEqual({ text: `pay to ${text}`, masked: 0 });
    }
  });

  it('stops a spaced IBAN where it ends, even when words of up to 4 letters follow', () => {
    expect(maskText('DE89 3704 0044 0532 0130 00 is mine').text).toBe('DE•• •••• •••• 3000 is mine');
    expect(maskText('NL91 ABNA 0417 1643 00 GB82 WEST 1234 5698 7654 32')).toEqual({
      text: 'NL•• •••• •••• 4300 GB•• •••• •••• 5432',
      masked: 2,
    });
  });

  it('does not mask an IBAN glued inside a longer word', () => {
    expect(maskText('xDE89370400440532013000').masked).toBe(0);
    expect(maskText('DE89370400440532013000x').masked).toBe(0);
  });

  it('can be switched off', () => {
    expect(maskText('DE89370400440532013000', { ibans: false }).masked).toBe(0);
  });
});

describe('maskText: custom rules', () => {
  const rules: MaskRule[] = parseMaskPatterns(JSON.stringify(['ORD-\\d{6}', 'secret\\w*']));

  it('replaces each match by one • per character, and counts them', () => {
    expect(maskText('Order ORD-123456 and ORD-654321, secretword!', { custom: rules })).toEqual({
      text: 'Order •••••••••• and ••••••••••, ••••••••••!',
      masked: 3,
    });
  });

  it('caps a long match at 32 •', () => {
    expect(maskText(`x ${'secret'.padEnd(100, 'a')} y`, { custom: rules }).text).toBe(`x ${'•'.repeat(32)} y`);
  });

  it('counts characters, not UTF-16 units, and applies after the built-in masks', () => {
    const [emoji] = parseMaskPatterns('["🔑+"]');
    expect(maskText('key 🔑🔑 here', { custom: [emoji!] }).text).toBe('key •• here');
    const [lastFour] = parseMaskPatterns('["\\\\d{4}"]');
    expect(maskText('4111111111111111', { custom: [lastFour!] })).toEqual({ text: '•••• •••• •••• ••••', masked: 2 });
  });

  it('accepts caller-built rules without the g flag, and skips empty matches', () => {
    const rule: MaskRule = { name: 'pin', pattern: /PIN \d{4}/ };
    expect(maskText('PIN 1234, PIN 5678', { custom: [rule] }).text).toBe('••••••••, ••••••••');
    expect(maskText('abc', { custom: [{ name: 'empty', pattern: /x*/g }] })).toEqual({ text: 'abc', masked: 0 });
  });
});

describe('maskText: cost', () => {
  // Timed as a guard against catastrophic backtracking (seconds, not milliseconds), not as a benchmark.
  const adversarial = {
    'spaced single digits': '1 '.repeat(8192),
    'dashed digit pairs': '12-'.repeat(5461),
    'an endless digit run': '4'.repeat(16384),
    'IBAN-like tokens': 'DE89 '.repeat(3277),
    'an IBAN head before a long token': `DE89${'A'.repeat(16380)}`,
    'almost-IBANs': 'AB12 CDEF GHIJ KLM '.repeat(862),
    'cards and separators': '4111 1111 1111 111- '.repeat(819),
  };
  for (const [name, text] of Object.entries(adversarial)) {
    it(`masks 16 KB of ${name} in under 200 ms`, () => {
      expect(text.length).toBeGreaterThanOrEqual(16_000);
      maskText(text.slice(0, 2000)); // compile the patterns and warm the JIT first
      const started = performance.now();
      maskText(text);
      expect(performance.now() - started).toBeLessThan(200);
    });
  }
});

describe('parseMaskPatterns', () => {
  it('compiles each string with the flags gu and names it by its index', () => {
    const rules = parseMaskPatterns('["ORD-\\\\d{6}", "\\\\p{Lu}{3}-\\\\d+"]');
    expect(rules.map((r) => r.name)).toEqual(['mask-patterns[0]', 'mask-patterns[1]']);
    expect(rules.map((r) => r.pattern.flags)).toEqual(['gu', 'gu']);
    expect(rules[1]!.pattern.test('ABC-12')).toBe(true);
    expect(parseMaskPatterns('[]')).toEqual([]);
  });

  const cases: [string, string, RegExp][] = [
    ['not JSON', 'ORD-\\d+', /not valid JSON/],
    ['not an array', '{"0":"a"}', /must be a JSON array/],
    ['a string, not an array', '"ORD"', /must be a JSON array/],
    ['a number entry', '["ok", 5]', /mask-patterns\[1\] must be a string, not the number 5/],
    ['a null entry', '[null]', /mask-patterns\[0\] must be a string, not null/],
    ['a nested array', '[["a"]]', /mask-patterns\[0\] must be a string, not an array/],
    ['an empty pattern', '["a", ""]', /mask-patterns\[1\] is empty/],
    ['an invalid regex', '["a", "b", "(unclosed"]', /mask-patterns\[2\] is not a valid regular expression/],
    ['an invalid regex under the u flag', '["\\\\-"]', /mask-patterns\[0\] is not a valid regular expression/],
    ['a pattern matching the empty string', '["x*"]', /mask-patterns\[0\] matches the empty string/],
    ['a zero-width pattern', '["ok", "\\\\b"]', /mask-patterns\[1\] matches the empty string/],
    ['a lookahead only', '["(?=a)"]', /mask-patterns\[0\] matches the empty string/],
    ['too many patterns', JSON.stringify(Array.from({ length: 21 }, (_, i) => `p${i}`)), /21 patterns; at most 20/],
    [
      'too long a pattern',
      JSON.stringify(['a', 'b'.repeat(201)]),
      /mask-patterns\[1\] is 201 characters long; at most 200/,
    ],
  ];
  for (const [what, attribute, message] of cases) {
    it(`refuses ${what} with a MaskRuleError saying where`, () => {
      let thrown: unknown;
      try {
        parseMaskPatterns(attribute);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(MaskRuleError);
      expect(thrown).toMatchObject({ code: 'SEALCHAT_E_MASK_RULE', name: 'MaskRuleError' });
      expect((thrown as Error).message).toMatch(message);
    });
  }

  it('accepts exactly 20 patterns of 200 characters, and takes other limits as options', () => {
    expect(parseMaskPatterns(JSON.stringify(Array.from({ length: 20 }, () => 'x'.repeat(200))))).toHaveLength(20);
    expect(() => parseMaskPatterns('["a", "b"]', { maxPatterns: 1 })).toThrow(MaskRuleError);
    expect(() => parseMaskPatterns('["abc"]', { maxPatternLength: 2 })).toThrow(/at most 2 are allowed/);
  });
});
