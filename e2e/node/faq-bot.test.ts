import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadOrCreateOrganisation,
  MemoryClientStore,
  publishRoster,
  type ChatMessage,
  type Organisation,
  type TypingSignal,
} from '@sealchat/client';
import { FileClientStore } from '@sealchat/client/node';
import { toHex } from '@sealchat/protocol';
import type { RunningRelay } from '@sealchat/relay';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, parseCommandLine } from '../../examples/faq-bot/src/config.js';
import {
  createBotIdentity,
  formatDeviceRequest,
  parseDeviceRequest,
} from '../../examples/faq-bot/src/device-request.js';
import { enrolAgentDevice, removeAgentDevice } from '../../examples/faq-bot/src/enrolment.js';
import { classify, DEFAULT_FAQS } from '../../examples/faq-bot/src/faq.js';
import { startFaqBot, type BotLogEntry } from '../../examples/faq-bot/src/faq-bot.js';
import { agentSession, startTestRelay, until, useClosers, visitorSession, WS } from './support.js';

/**
 * examples/faq-bot against a real relay: the bot is an enrolled agent device with its identity in a
 * key file; it answers FAQs, says it is a bot, hands off, and reads only what was shared with it.
 */
const closers = useClosers();
const relay = (): Promise<RunningRelay> => startTestRelay(closers);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOURS = DEFAULT_FAQS.find((f) => f.id === 'opening-hours')!.answer;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sealchat-faq-bot-'));
}

const fromBot = (m: ChatMessage) => m.author === 'agent' && m.authorName === 'FAQ bot';

/** The supervisor's side: an organisation with one human agent ("Robin"), its roster on the relay. */
async function organisation(running: RunningRelay) {
  const store = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  await publishRoster(running.url, org, { WebSocket: WS });
  return { store, org };
}

/** The bot's key file (encrypted), its identity, and its enrolment: device request → new roster → relay. */
async function enrolledBotStore(running: RunningRelay, orgStore: MemoryClientStore, org: Organisation) {
  const store = await FileClientStore.open(join(tempDir(), 'bot.json'), { passphrase: 'a long bot passphrase' });
  const request = formatDeviceRequest(await createBotIdentity(store));
  const issued = await enrolAgentDevice(orgStore, org, await parseDeviceRequest(request));
  await publishRoster(running.url, issued, { WebSocket: WS });
  return store;
}

async function bot(running: RunningRelay, org: Organisation, store: FileClientStore, log: BotLogEntry[]) {
  const started = await startFaqBot({
    relayUrl: running.url,
    orgRootKey: org.rootPublic,
    store,
    WebSocket: WS,
    replyDelayMs: 50,
    log: (entry) => log.push(entry),
  });
  closers.push(() => started.close());
  return started;
}

/** Resolves at the first log entry of `event` for the conversation (ids are logged as 8 hex digits). */
function logged(log: BotLogEntry[], event: BotLogEntry['event'], conversationId: string) {
  return vi.waitFor(
    () => expect(log.some((e) => e.event === event && conversationId.startsWith(e.conversation ?? '-'))).toBe(true),
    { timeout: 5000, interval: 20 },
  );
}

// A real relay, an encrypted key file (600,000 PBKDF2 rounds) and several sessions per test.
describe('the FAQ bot over a real relay', { timeout: 30_000 }, () => {
  it('answers, says it is a bot, hands off after two misses, then stays quiet, across a restart', async () => {
    const running = await relay();
    const { store: orgStore, org } = await organisation(running);
    const botStore = await enrolledBotStore(running, orgStore, org);
    const log: BotLogEntry[] = [];
    const faqBot = await bot(running, org, botStore, log);
    const robin = await agentSession(running, org.rootPublic, org.agent, closers);
    const ana = await visitorSession(running, org.orgKey, closers);

    // An answer: "typing" first, then the answer, introduced as a bot; the question is marked read.
    const typing = until<TypingSignal>(ana, 'typing', (t) => t.authorName === 'FAQ bot');
    const answered = until<ChatMessage>(ana, 'message', fromBot);
    const question = await ana.send('Hi! What are your opening hours?');
    const id = question.conversationId;
    await typing;
    const answer = await answered;
    expect(answer.text).toContain('not a person');
    expect(answer.text).toContain(HOURS);
    await vi.waitFor(() => expect(ana.messages.find((m) => m.id === question.id)?.state).toBe('read'));

    // Two questions it cannot answer: the first gets a pointer, the second the hand-off.
    const pointer = until<ChatMessage>(ana, 'message', (m) => fromBot(m) && m.id !== answer.id);
    await ana.send('Can I pay with seashells?');
    const first = await pointer;
    expect(first.text).toContain('opening hours, shipping and returns');
    expect(first.text).not.toContain('not a person'); // introduced once
    const handOff = until<ChatMessage>(ana, 'message', (m) => fromBot(m) && m.text.includes('A human will take over'));
    await ana.send('Is there parking nearby?');
    await handOff;
    expect(faqBot.handedOff.has(id)).toBe(true);
    expect(log.filter((e) => e.event === 'handed-off')).toEqual([
      { event: 'handed-off', conversation: id.slice(0, 8), detail: 'not-understood' },
    ]);

    // Now the bot stays out of it: no answer, not even to a question it knows, and nothing marked read.
    const atRobin = until<ChatMessage>(robin, 'message', (m) => m.text === 'What about returns?');
    const later = await ana.send('What about returns?');
    await atRobin; // the human colleague reads it (the bot's hand-off too: it is on the roster they share)
    expect(robin.messagesOf(id).some((m) => fromBot(m) && m.text.includes('A human will take over'))).toBe(true);
    await logged(log, 'ignored', id);
    await vi.waitFor(() => expect(ana.messages.find((m) => m.id === later.id)?.state).toBe('delivered'));
    await sleep(300);
    expect(ana.messages.filter(fromBot)).toHaveLength(3);
    expect(ana.messages.find((m) => m.id === later.id)?.state).toBe('delivered');

    // A restarted bot (same key file) remembers: it repeats nothing and stays handed off.
    await faqBot.close();
    const restartLog: BotLogEntry[] = [];
    const again = await bot(running, org, botStore, restartLog);
    expect(again.handedOff.has(id)).toBe(true);
    await ana.send('Opening hours?');
    await logged(restartLog, 'ignored', id);
    await sleep(300);
    expect(ana.messages.filter(fromBot)).toHaveLength(3);

    // The log says what happened, never what was said, and names conversations by a prefix only.
    const text = JSON.stringify([...log, ...restartLog]);
    for (const said of ['opening hours', 'seashells', 'parking', 'returns', HOURS, 'human will take over']) {
      expect(text.toLowerCase()).not.toContain(said.toLowerCase());
    }
    expect(text).not.toContain(id);
    expect(text).not.toContain(toHex(org.rootPublic).slice(0, 16));
  });

  it('reads only conversations whose key shares name its device', async () => {
    const running = await relay();
    const { store: orgStore, org } = await organisation(running);
    const robin = await agentSession(running, org.rootPublic, org.agent, closers);
    // Ana starts before the bot is enrolled: her key shares go to the roster she verified (Robin's).
    const ana = await visitorSession(running, org.orgKey, closers);
    const atRobin = until<ChatMessage>(robin, 'message', (m) => m.text === 'What are your opening hours?');
    const before = await ana.send('What are your opening hours?');
    await atRobin;

    const botStore = await enrolledBotStore(running, orgStore, org);
    const log: BotLogEntry[] = [];
    const faqBot = await bot(running, org, botStore, log);
    // The relay hands the bot every record of Ana's conversation (it is an authenticated agent of the
    // org, and it caught up on them while starting), but no key share in it names the bot's device:
    // nothing decrypts.
    const seen = faqBot.session.conversationList.find((c) => c.id === before.conversationId);
    expect(seen?.lastSeq).toBeGreaterThan(0);
    expect(seen?.messages).toEqual([]);

    // Ben starts after the enrolment, so his shares include the bot, which answers him.
    const ben = await visitorSession(running, org.orgKey, closers);
    const answered = until<ChatMessage>(ben, 'message', fromBot);
    await ben.send('What are your opening hours?');
    expect((await answered).text).toContain(HOURS);

    // The relay pushed the new roster to Ana's open page, so her next words go to a new chain that is
    // shared with the bot too: it reads them and answers. What she wrote before the enrolment stays
    // unreadable to it.
    const answeredAna = until<ChatMessage>(ana, 'message', fromBot);
    await ana.send('Hello? Opening hours?');
    expect((await answeredAna).text).toContain(HOURS);
    expect(seen?.messages.map((m) => m.text)).toContain('Hello? Opening hours?');
    expect(seen?.messages.map((m) => m.text)).not.toContain('What are your opening hours?');
  });

  it('a bot taken off the roster is cut off by the relay and stops', async () => {
    const running = await relay();
    const { store: orgStore, org } = await organisation(running);
    const botStore = await enrolledBotStore(running, orgStore, org);
    const log: BotLogEntry[] = [];
    const faqBot = await bot(running, org, botStore, log);
    const { deviceId } = await createBotIdentity(botStore);

    const issued = await removeAgentDevice(orgStore, await loadOrCreateOrganisation(orgStore), deviceId);
    await publishRoster(running.url, issued, { WebSocket: WS });
    expect(await faqBot.stopped).toBe('refused');
    expect(log.map((e) => e.event)).toContain('refused');
    // Robin stays on the roster that replaced the bot's.
    const robin = await agentSession(running, org.rootPublic, org.agent, closers);
    expect(robin.state).toBe('open');
  });
});

describe('FAQ matching', () => {
  const topic = (text: string) => {
    const verdict = classify(text, DEFAULT_FAQS);
    return verdict.kind === 'answer' ? verdict.entry.id : verdict.kind;
  };

  it('matches whole words, in any case and punctuation, and hands off whenever a person is asked for', () => {
    expect(topic('WHEN do you OPEN?!')).toBe('opening-hours');
    expect(topic('Can I get a refund')).toBe('returns');
    expect(topic('how much is postage to Spain')).toBe('shipping');
    expect(topic('is this jacket shipshape')).toBe('miss'); // "ship" inside another word is not "ship"
    expect(topic('Can a human tell me your opening hours?')).toBe('hand-off');
    expect(topic('Agent please')).toBe('hand-off');
  });
});

describe('faq-bot configuration', () => {
  const env = { SEALCHAT_RELAY_URL: 'ws://127.0.0.1:8787', SEALCHAT_BOT_KEY_FILE: '/srv/bot/key.json' };

  it('takes flags over environment variables, and passphrases from the environment or a file', async () => {
    const org = await loadOrCreateOrganisation(new MemoryClientStore());
    const run = await parseCommandLine(['run', '--org', org.orgKey, '--relay', 'wss://relay.example'], {
      ...env,
      SEALCHAT_BOT_PASSPHRASE: 'from the environment',
    });
    expect(run).toMatchObject({
      command: 'run',
      relayUrl: 'wss://relay.example',
      keyFile: '/srv/bot/key.json',
      passphrase: 'from the environment',
    });
    const file = join(tempDir(), 'passphrase');
    writeFileSync(file, 'from a file\n');
    expect(await parseCommandLine(['id', '--passphrase-file', file], env)).toEqual({
      command: 'id',
      keyFile: '/srv/bot/key.json',
      passphrase: 'from a file',
    });
  });

  it.each([
    [['run'], {}, 'Missing --relay (or SEALCHAT_RELAY_URL)'],
    [['run', '--relay', 'http://relay.example'], env, 'must start with ws:// or wss://'],
    [['run', '--org', 'sc1nope'], env, '--org: '],
    [['run', '--passphrase', 'hunter2'], env, '--passphrase is not accepted: command lines are visible'],
    [['run', '--colour', 'blue'], env, "Unknown option '--colour'"],
    [['id', '--relay', 'ws://x'], env, '--relay is not an option of id'],
    [
      ['enrol', '--org-file', 'org.json', '--device', 'scd1AAAA'],
      env,
      '--device: The device request has the wrong length',
    ],
    [['remove', '--org-file', 'org.json', '--device-id', 'abc'], env, '--device-id must be 32 hex digits'],
    [['fly'], env, 'Unknown command "fly"'],
  ] as const)('%j is refused with a message naming what to fix', async (argv, environment, message) => {
    const parsing = parseCommandLine(argv, environment);
    await expect(parsing).rejects.toBeInstanceOf(ConfigError);
    await expect(parsing).rejects.toThrow(message);
  });

  it('checks the FAQ file it is given', async () => {
    const file = join(tempDir(), 'faq.json');
    writeFileSync(file, JSON.stringify([{ id: 'x', topic: 'x', keywords: [], answer: 'y' }]));
    const org = await loadOrCreateOrganisation(new MemoryClientStore());
    await expect(parseCommandLine(['run', '--org', org.orgKey, '--faq-file', file], env)).rejects.toThrow(
      `The FAQ file ${file}: entry 0: "keywords" must be a non-empty array of words`,
    );
  });
});
