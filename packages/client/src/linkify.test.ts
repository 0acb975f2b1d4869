import { describe, expect, it } from 'vitest';
import { linkify } from './linkify.js';

describe('linkify', () => {
  it('turns http(s) URLs into links and leaves the rest as text', () => {
    expect(linkify('See https://example.org/faq?q=1, then http://a.b/c.')).toEqual([
      { kind: 'text', text: 'See ' },
      { kind: 'link', text: 'https://example.org/faq?q=1', href: 'https://example.org/faq?q=1' },
      { kind: 'text', text: ', then ' },
      { kind: 'link', text: 'http://a.b/c', href: 'http://a.b/c' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('never links other schemes, whatever their spelling', () => {
    for (const text of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'mailto:a@b.c',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
    ]) {
      expect(linkify(text)).toEqual([{ kind: 'text', text }]);
    }
  });

  it('keeps markup as text: the segments carry characters, not HTML', () => {
    const segments = linkify('<img src=x onerror=alert(1)> https://ok.example/"><script>');
    expect(segments[0]).toEqual({ kind: 'text', text: '<img src=x onerror=alert(1)> ' });
    expect(segments[1]).toMatchObject({ kind: 'link', href: 'https://ok.example/' });
    expect(segments.map((s) => s.text).join('')).toBe('<img src=x onerror=alert(1)> https://ok.example/"><script>');
  });

  it('returns the text unchanged when there is nothing to link', () => {
    expect(linkify('hello')).toEqual([{ kind: 'text', text: 'hello' }]);
    expect(linkify('')).toEqual([]);
  });
});
