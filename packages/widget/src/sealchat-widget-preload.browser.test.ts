import { describe, expect, it } from 'vitest';
import './define.js';

// Its own file, so no earlier test has loaded the panel module already.
describe('<sealchat-widget preload>', () => {
  it('loads nothing but the launcher by default, and the chat code when idle with preload="idle"', async () => {
    const lazy = document.createElement('sealchat-widget');
    document.body.append(lazy);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(customElements.get('sealchat-panel')).toBeUndefined();

    const eager = document.createElement('sealchat-widget');
    eager.setAttribute('preload', 'idle');
    document.body.append(eager);
    await expect.poll(() => customElements.get('sealchat-panel'), { timeout: 5000 }).toBeDefined();
    // Loaded, not opened: the visitor has not asked for the chat.
    expect(eager.open).toBe(false);
    lazy.remove();
    eager.remove();
  });
});
