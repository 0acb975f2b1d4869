import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

// Server rendering runs in Node, which has no HTMLElement: importing the element class there throws.
// The package's `node` export condition gives Node react-ssr.ts, which renders the bare tag.

describe('SealchatWidget (React) on the server', () => {
  it('resolves to the server build under Node, without touching the DOM', async () => {
    expect(typeof globalThis.HTMLElement).toBe('undefined');
    const { SealchatWidget } = await import('@sealchat/widget/react');
    const html = renderToString(
      createElement(SealchatWidget, {
        relay: 'wss://relay.example',
        org: 'sc1x',
        heading: 'Ask "us"',
        className: 'chat',
        onOpen: () => undefined,
      }),
    );
    expect(html).toBe(
      '<sealchat-widget relay="wss://relay.example" org="sc1x" heading="Ask &quot;us&quot;" class="chat"></sealchat-widget>',
    );
  });
});
