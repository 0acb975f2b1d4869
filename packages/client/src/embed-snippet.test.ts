import { describe, expect, it } from 'vitest';
import { embedSnippet } from './embed-snippet.js';

const ORG_KEY = `sc1${'A'.repeat(48)}`;
const base = {
  cdnBase: 'https://cdn.example/sealchat/1.0.0',
  launcherIntegrity: 'sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC',
  relayUrl: 'wss://chat.example.org',
  orgKey: ORG_KEY,
};

describe('embedSnippet', () => {
  it('writes the SRI-pinned script tag and the widget tag pinned to the org key', () => {
    expect(embedSnippet(base)).toBe(
      '<script type="module" src="https://cdn.example/sealchat/1.0.0/sealchat-widget.js" ' +
        `integrity="${base.launcherIntegrity}" crossorigin="anonymous"></script>\n` +
        `<sealchat-widget relay="wss://chat.example.org" org="${ORG_KEY}"></sealchat-widget>`,
    );
    expect(embedSnippet({ ...base, cdnBase: 'https://cdn.example/' })).toContain(
      'src="https://cdn.example/sealchat-widget.js"',
    );
  });

  it('escapes hostile attribute values so they cannot leave their attribute', () => {
    const hostile = `"><script>alert(1)</script><x a='`;
    const snippet = embedSnippet({
      ...base,
      relayUrl: 'wss://chat.example.org/"><img src=x onerror=alert(1)>',
      attributes: { heading: hostile, greeting: 'Tom & Jerry' },
    });
    expect(snippet).not.toMatch(/<script>|<img|<x /);
    expect(snippet).toContain('relay="wss://chat.example.org/&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"');
    expect(snippet).toContain('heading="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;x a=&#39;"');
    expect(snippet).toContain('greeting="Tom &#38; Jerry"');
    // Exactly the two tags: every quote in the output is one of ours.
    expect(snippet.match(/</g)).toHaveLength(4);
  });

  it('refuses what is not a URL of the right scheme, an SRI hash, or an org key', () => {
    const bad: [Partial<typeof base>, RegExp][] = [
      [{ cdnBase: 'javascript:alert(1)//' }, /cdnBase must be a https URL/],
      [{ cdnBase: 'http://cdn.example' }, /cdnBase must be a https URL/],
      [{ cdnBase: '//cdn.example' }, /cdnBase must be an absolute URL/],
      [{ cdnBase: 'https://cdn.example/?v=1' }, /query or fragment/],
      [{ cdnBase: 'https://user:pw@cdn.example/' }, /credentials/],
      [{ relayUrl: 'https://chat.example.org' }, /relayUrl must be a wss URL/],
      [{ relayUrl: 'ws://chat.example.org' }, /relayUrl must be a wss URL/],
      [{ launcherIntegrity: 'sha384-…' }, /launcherIntegrity/],
      [{ launcherIntegrity: 'md5-abc' }, /launcherIntegrity/],
      [{ launcherIntegrity: `${base.launcherIntegrity}" onload="x` }, /launcherIntegrity/],
      [{ orgKey: 'sc1short' }, /orgKey/],
      [{ orgKey: `${ORG_KEY}"` }, /orgKey/],
    ];
    for (const [override, message] of bad) expect(() => embedSnippet({ ...base, ...override })).toThrow(message);
    expect(() => embedSnippet({ ...base, attributes: { org: ORG_KEY } })).toThrow(/reserved|can add/);
    expect(() => embedSnippet({ ...base, attributes: { 'on"x': '1' } })).toThrow(TypeError);
  });

  it('allows plain http and ws on localhost, for development', () => {
    const snippet = embedSnippet({ ...base, cdnBase: 'http://localhost:5173', relayUrl: 'ws://127.0.0.1:8787' });
    expect(snippet).toContain('src="http://localhost:5173/sealchat-widget.js"');
    expect(snippet).toContain('relay="ws://127.0.0.1:8787"');
  });
});
