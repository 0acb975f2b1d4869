import { describe, expect, it } from 'vitest';
import { embedSnippet } from './embed-snippet.js';

describe('embedSnippet in a real HTML parser', () => {
  it('parses to exactly the two tags, with hostile values intact as attribute text', () => {
    const hostile = `"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'`;
    const orgKey = `sc1${'A'.repeat(48)}`;
    const snippet = embedSnippet({
      cdnBase: 'https://cdn.example',
      launcherIntegrity: 'sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC',
      relayUrl: `wss://chat.example.org/${hostile}`,
      orgKey,
      attributes: { heading: hostile, greeting: hostile },
    });
    const doc = new DOMParser().parseFromString(`<!doctype html><body>${snippet}`, 'text/html');
    const elements = [...doc.body.querySelectorAll('*')];
    expect(elements.map((e) => e.localName)).toEqual(['script', 'sealchat-widget']);
    const [script, widget] = elements as [HTMLScriptElement, HTMLElement];
    expect(script.getAttribute('src')).toBe('https://cdn.example/sealchat-widget.js');
    expect(script.getAttribute('integrity')).toMatch(/^sha384-/);
    expect(script.getAttribute('crossorigin')).toBe('anonymous');
    expect(script.textContent).toBe('');
    expect(widget.getAttribute('relay')).toBe(`wss://chat.example.org/${hostile}`);
    expect(widget.getAttribute('org')).toBe(orgKey);
    expect(widget.getAttribute('heading')).toBe(hostile);
    expect(widget.getAttribute('greeting')).toBe(hostile);
  });
});
