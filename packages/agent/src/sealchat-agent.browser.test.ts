import { describe, expect, it } from 'vitest';
import type { AgentSession, ChatMessage, Conversation, RefusedControl } from '@sealchat/client';
import './define.js';

/** Just enough of a conversation to render. */
function fakeConversation(
  id: string,
  messages: ChatMessage[],
  fields: { notices?: { kind: string }[]; assignee?: string; closed?: boolean; refused?: RefusedControl[] } = {},
): Conversation {
  return {
    id,
    messages,
    hasVisitor: true,
    notices: fields.notices ?? [],
    unread: 0,
    assignment: { assignee: fields.assignee, closed: fields.closed ?? false },
    refusedControls: fields.refused ?? [],
  } as unknown as Conversation;
}

/** Just enough of an AgentSession to render: the console reads conversations, listens, and calls `extra`. */
function fakeSessionOf(conversations: Conversation[], extra: Record<string, unknown> = {}): AgentSession {
  return Object.assign(new EventTarget(), {
    conversationList: conversations,
    presence: 'online',
    deviceId: 'me',
    team: [],
    retry: () => undefined,
    markRead: () => undefined,
    typing: () => undefined,
    ...extra,
  }) as unknown as AgentSession;
}

function fakeSession(messages: ChatMessage[], notices: { kind: string }[] = [], read: string[] = []): AgentSession {
  return fakeSessionOf([fakeConversation('c0ffee', messages, { notices })], {
    markRead: (id: string) => read.push(id),
  });
}

/** One conversation with one visitor message. */
const withText = (id: string, text: string, fields?: Parameters<typeof fakeConversation>[2]) =>
  fakeConversation(id, [{ ...message(text), conversationId: id }], fields);

const message = (text: string): ChatMessage => ({
  id: 'seq:1',
  conversationId: 'c0ffee',
  seq: 1,
  author: 'visitor',
  authorName: undefined,
  mine: false,
  text,
  fields: undefined,
  sentAt: 0,
  state: 'sent',
});

describe('<sealchat-agent>', () => {
  it("renders a visitor's HTML as inert text", async () => {
    const payloads = [
      '<img src=x onerror="window.__pwned=1">',
      '<script>window.__pwned=1</script>',
      '<a href="javascript:window.__pwned=1">click</a>',
    ];
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession(payloads.map(message));
    document.body.append(el);
    await el.updateComplete;
    const log = el.shadowRoot!.querySelector('[role="log"]')!;
    for (const payload of payloads) expect(log.textContent).toContain(payload);
    expect(log.querySelector('img, script, a')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    el.remove();
  });

  it('opens the newest conversation when none is selected', async () => {
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession([message('hello')]);
    document.body.append(el);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('nav li button')!.getAttribute('aria-current')).toBe('true');
    expect(el.shadowRoot!.querySelector('[role="log"]')!.textContent).toContain('hello');
    el.remove();
  });

  it('warns the agent when the transcript shows messages missing', async () => {
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession([message('hello')], [{ kind: 'gap' }]);
    document.body.append(el);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.warning')?.textContent).toMatch(/may be missing/);
    // A late arrival lost nothing: it is said as such, not as missing messages.
    el.session = fakeSession([message('hello')], [{ kind: 'reorder' }]);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.warning')?.textContent).toMatch(/arrived late/);
    el.session = fakeSession([message('hello')], []);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.warning')).toBeNull();
    el.remove();
  });

  it('says in words, visibly, what every kind of transcript notice and refused record means', async () => {
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession(
      [message('hello')],
      [{ kind: 'refused' }, { kind: 'trimmed' }, { kind: 'fork' }, { kind: 'reorder' }],
    );
    document.body.append(el);
    await el.updateComplete;
    const notices = [...el.shadowRoot!.querySelectorAll<HTMLElement>('.notice')];
    expect(notices.map((n) => n.textContent.trim())).toEqual([
      'Some records in this conversation were refused (forged, misplaced or unreadable) and are not shown.',
      'A sender’s messages exist in two versions: one was not written by it, or it wrote from two places at once.',
      'Some messages in this conversation may be missing: the relay did not deliver them all.',
      'Some messages arrived late, after later ones.',
    ]);
    for (const notice of notices) {
      expect(notice.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })).toBe(true);
      expect(notice.getBoundingClientRect().height).toBeGreaterThan(0);
    }
    // A refused record alone is said too (it used to be only a `problem` event nobody listened to).
    el.session = fakeSession([message('hello')], [{ kind: 'refused' }]);
    await el.updateComplete;
    expect([...el.shadowRoot!.querySelectorAll('.notice')].map((n) => n.textContent.trim())).toEqual([
      'Some records in this conversation were refused (forged, misplaced or unreadable) and are not shown.',
    ]);
    // And an export carries them: it must not look whole when it is not.
    const blobs: Blob[] = [];
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob: Blob) => (blobs.push(blob), create(blob));
    try {
      for (const label of ['Export JSON', 'Export text'])
        [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent.trim() === label)!.click();
    } finally {
      URL.createObjectURL = create;
    }
    expect((JSON.parse(await blobs[0]!.text()) as { notices: unknown }).notices).toEqual([{ kind: 'refused' }]);
    expect(await blobs[1]!.text()).toMatch(/\nNotice: Some records in this conversation were refused/);
    el.remove();
  });

  it('links only http(s) URLs, as anchors that cannot reach back into the page', async () => {
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession([
      message('Tracking: https://parcel.example/t/123?x=1. Thanks!'),
      message('javascript:window.__pwned=1 and data:text/html,<b>x</b>'),
    ]);
    document.body.append(el);
    await el.updateComplete;
    const anchors = [...el.shadowRoot!.querySelectorAll('[role="log"] a')];
    expect(anchors).toHaveLength(1);
    const [link] = anchors as HTMLAnchorElement[];
    expect(link!.href).toBe('https://parcel.example/t/123?x=1');
    expect(link!.textContent).toBe('https://parcel.example/t/123?x=1');
    expect(link!.rel).toBe('noopener noreferrer');
    expect(link!.target).toBe('_blank');
    expect(el.shadowRoot!.querySelector('[role="log"]')!.textContent).toContain('javascript:window.__pwned=1');
    el.remove();
  });

  it('shows when each message was written, machine-readable', async () => {
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession([{ ...message('hello'), sentAt: Date.UTC(2026, 10, 28, 9, 5) }]);
    document.body.append(el);
    await el.updateComplete;
    const time = el.shadowRoot!.querySelector('[role="log"] time')!;
    expect(time.getAttribute('datetime')).toBe('2026-11-28T09:05:00.000Z');
    expect(time.textContent).toMatch(/\d{1,2}.\d{2}/);
    el.remove();
  });

  it('tells the visitor the open conversation was read', async () => {
    const read: string[] = [];
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession([message('hello')], [], read);
    document.body.append(el);
    await el.updateComplete;
    expect(read).toContain('c0ffee');
    el.remove();
  });

  it("shows the visitor's pre-chat answers as text, never HTML", async () => {
    const el = document.createElement('sealchat-agent');
    const form: ChatMessage = {
      ...message('Name: <b>Ana</b>'),
      fields: [{ name: 'Name', value: '<b>Ana</b>' }],
    };
    el.session = fakeSession([form]);
    document.body.append(el);
    await el.updateComplete;
    const answers = el.shadowRoot!.querySelector('dl[aria-label="Pre-chat answers"]')!;
    expect(answers.querySelector('dd')!.textContent).toBe('<b>Ana</b>');
    expect(answers.querySelector('b')).toBeNull();
    el.remove();
  });
});

describe('<sealchat-agent> inbox tools', () => {
  /** Two conversations, the second newest; each with one visitor message. */
  function twoConversations(): AgentSession {
    return fakeSessionOf([withText('aaaa01', 'Where is my parcel?'), withText('bbbb02', 'Refund please')]);
  }

  async function mountConsole() {
    const el = document.createElement('sealchat-agent');
    el.session = twoConversations();
    el.cannedReplies = ['Thanks for waiting.', 'Anything else?'];
    document.body.append(el);
    await el.updateComplete;
    return el;
  }

  it('searches the decrypted text locally', async () => {
    const el = await mountConsole();
    const search = el.shadowRoot!.querySelector<HTMLInputElement>('input[type=search]')!;
    search.value = 'PARCEL';
    search.dispatchEvent(new Event('input'));
    await el.updateComplete;
    const entries = [...el.shadowRoot!.querySelectorAll('nav li')].map((li) => li.textContent);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toContain('Where is my parcel?');
    el.remove();
  });

  it('moves between conversations with Alt+↑/↓ and jumps to search with /', async () => {
    const el = await mountConsole();
    const heading = () => el.shadowRoot!.querySelector('.conversation h2')!.textContent;
    expect(heading()).toContain('bbbb02');
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', altKey: true, bubbles: true }));
    await el.updateComplete;
    expect(heading()).toContain('aaaa01');
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '/', bubbles: true }));
    expect(el.shadowRoot!.activeElement?.matches('input[type=search]')).toBe(true);
    el.remove();
  });

  it('inserts a canned reply into the reply box, and exports the transcript as JSON and text', async () => {
    const el = await mountConsole();
    const select = el.shadowRoot!.querySelector<HTMLSelectElement>('select[aria-label="Canned reply"]')!;
    select.value = 'Anything else?';
    select.dispatchEvent(new Event('change'));
    expect(el.shadowRoot!.querySelector('textarea')!.value).toBe('Anything else?');

    const blobs: Blob[] = [];
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob: Blob) => (blobs.push(blob), create(blob));
    try {
      for (const label of ['Export JSON', 'Export text']) {
        const button = [...el.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent.trim() === label)!;
        button.click();
      }
    } finally {
      URL.createObjectURL = create;
    }
    const json = JSON.parse(await blobs[0]!.text()) as { conversationId: string; messages: { text: string }[] };
    expect(json.conversationId).toBe('bbbb02');
    expect(json.messages.map((m) => m.text)).toEqual(['Refund please']);
    expect(await blobs[1]!.text()).toMatch(/^\[1970-01-01T00:00:00.000Z\] Visitor: Refund please$/);
    el.remove();
  });
});

describe('<sealchat-agent> several conversations at once', () => {
  it('opens a second conversation beside the first, each with its own reply box', async () => {
    const replies: [string, string][] = [];
    const session = fakeSessionOf([withText('aaaa01', 'first visitor'), withText('bbbb02', 'second visitor')], {
      reply: (id: string, text: string) => (replies.push([id, text]), Promise.resolve()),
    });
    const el = document.createElement('sealchat-agent');
    el.session = session;
    document.body.append(el);
    await el.updateComplete;
    el.shadowRoot!.querySelector<HTMLButtonElement>('button[aria-label="Open visitor aaaa01 beside"]')!.click();
    await el.updateComplete;
    const sections = [...el.shadowRoot!.querySelectorAll('section.conversation')];
    expect(sections.map((s) => s.getAttribute('aria-label'))).toEqual(['Visitor bbbb02', 'Visitor aaaa01']);
    const reply = sections[1]!.querySelector('textarea')!;
    reply.value = 'hello first';
    reply.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true }));
    expect(replies).toEqual([['aaaa01', 'hello first']]);
    el.remove();
  });
});

describe('<sealchat-agent> assignment', () => {
  it('lists open, unassigned, mine and closed conversations, and claims and closes through the session', async () => {
    const calls: string[] = [];
    const session = fakeSessionOf(
      [
        withText('aaaa01', 'text of aaaa01'),
        withText('bbbb02', 'text of bbbb02', { assignee: 'me' }),
        withText('cccc03', 'text of cccc03', { assignee: 'other', closed: true }),
      ],
      {
        team: [
          { deviceId: 'me', displayName: 'Robin', role: 'agent' },
          { deviceId: 'other', displayName: 'Sam', role: 'agent' },
        ],
        claim: (id: string) => (calls.push(`claim ${id}`), Promise.resolve()),
        closeConversation: (id: string) => (calls.push(`close ${id}`), Promise.resolve()),
        assign: (id: string, to: string) => (calls.push(`assign ${id} ${to}`), Promise.resolve()),
      },
    );
    const el = document.createElement('sealchat-agent');
    el.session = session;
    document.body.append(el);
    await el.updateComplete;
    const listed = () =>
      [...el.shadowRoot!.querySelectorAll('nav li')].map((li) => li.textContent.match(/Visitor (\w{6})/)![1]);
    const show = async (label: string) => {
      [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('.filters button')]
        .find((b) => b.textContent.trim() === label)!
        .click();
      await el.updateComplete;
    };
    expect(listed()).toEqual(['aaaa01', 'bbbb02']);
    await show('Unassigned');
    expect(listed()).toEqual(['aaaa01']);
    await show('Mine');
    expect(listed()).toEqual(['bbbb02']);
    await show('Closed');
    expect(listed()).toEqual(['cccc03']);
    await show('All');
    expect(listed()).toEqual(['aaaa01', 'bbbb02', 'cccc03']);

    // The newest (closed, Sam's) is open on the right: it says so, and offers Claim, Assign and Reopen.
    expect(el.shadowRoot!.querySelector('.assignment')!.textContent).toContain('Closed · assigned to Sam');
    el.shadowRoot!.querySelector<HTMLButtonElement>('.assignment button')!.click();
    const assign = el.shadowRoot!.querySelector<HTMLSelectElement>('select[aria-label="Assign to"]')!;
    assign.value = 'me';
    assign.dispatchEvent(new Event('change'));
    expect(calls).toEqual(['claim cccc03', 'assign cccc03 me']);
    el.remove();
  });
});

describe('<sealchat-agent> private notes and the team', () => {
  it('marks notes apart from replies, sends "Add note" as a note, and exports notes flagged', async () => {
    const sent: string[] = [];
    const note: ChatMessage = { ...message('Repeat customer: refund'), id: 'seq:2', author: 'agent', note: true };
    const session = fakeSessionOf([fakeConversation('c0ffee', [message('Refund please'), note])], {
      reply: (_: string, text: string) => (sent.push(`reply ${text}`), Promise.resolve()),
      addNote: (_: string, text: string) => (sent.push(`note ${text}`), Promise.resolve()),
    });
    const el = document.createElement('sealchat-agent');
    el.session = session;
    document.body.append(el);
    await el.updateComplete;
    const items = [...el.shadowRoot!.querySelectorAll('[role="log"] li')];
    expect(items.map((li) => li.classList.contains('note'))).toEqual([false, true]);
    expect(items[1]!.textContent).toContain('Private note');

    const textarea = el.shadowRoot!.querySelector('textarea')!;
    const button = (label: string) =>
      [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('form button')].find(
        (b) => b.textContent.trim() === label,
      )!;
    textarea.value = 'for the team';
    button('Add note').click();
    textarea.value = 'for the visitor';
    button('Send').click();
    expect(sent).toEqual(['note for the team', 'reply for the visitor']);

    const blobs: Blob[] = [];
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob: Blob) => (blobs.push(blob), create(blob));
    try {
      for (const label of ['Export JSON', 'Export text'])
        [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('.tools button')]
          .find((b) => b.textContent.trim() === label)!
          .click();
    } finally {
      URL.createObjectURL = create;
    }
    const json = JSON.parse(await blobs[0]!.text()) as { messages: { text: string; note?: boolean }[] };
    expect(json.messages.map((m) => m.note ?? false)).toEqual([false, true]);
    expect(await blobs[1]!.text()).toContain('(private note) Agent: Repeat customer: refund');
    el.remove();
  });

  it('names a device revoked since as a former member', async () => {
    const sam: ChatMessage = { ...message('Refund sent'), author: 'agent', authorName: 'Sam', former: true };
    const el = document.createElement('sealchat-agent');
    el.session = fakeSession([message('Refund please'), sam]);
    document.body.append(el);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelectorAll('[role="log"] li')[1]!.textContent).toContain('Sam (former member)');
    el.remove();
  });

  it('says in words, visibly, that a former member’s close was not applied', async () => {
    const refused: RefusedControl[] = [{ seq: 4, action: 'close', senderDeviceId: '5a', senderName: 'Sam' }];
    const el = document.createElement('sealchat-agent');
    el.session = fakeSessionOf([withText('aaaa01', 'hello', { refused })]);
    document.body.append(el);
    await el.updateComplete;
    const notice = el.shadowRoot!.querySelector<HTMLElement>('.refused')!;
    expect(notice.checkVisibility()).toBe(true);
    expect(notice.getBoundingClientRect().height).toBeGreaterThan(0);
    expect(notice.textContent).toMatch(/not applied, the sender is no longer on the team: close by Sam\./i);
    expect(el.shadowRoot!.querySelector('.assignment')!.textContent).toContain('Open · unassigned');
    el.session = fakeSessionOf([withText('aaaa01', 'hello')]);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.refused')).toBeNull();
    el.remove();
  });

  it('follows a new roster: a colleague approved meanwhile can be assigned at once', async () => {
    const team = [{ deviceId: 'me', displayName: 'Robin', role: 'agent' }];
    const session = fakeSessionOf([withText('aaaa01', 'hello')], { team });
    const el = document.createElement('sealchat-agent');
    el.session = session;
    document.body.append(el);
    await el.updateComplete;
    const options = () =>
      [...el.shadowRoot!.querySelectorAll('select[aria-label="Assign to"] option')].map((o) => o.textContent);
    expect(options()).not.toContain('Sam (agent)');
    team.push({ deviceId: 'sam', displayName: 'Sam', role: 'agent' });
    session.dispatchEvent(new CustomEvent('team', { detail: 2 }));
    await el.updateComplete;
    expect(options()).toContain('Sam (agent)');
    el.remove();
  });
});
