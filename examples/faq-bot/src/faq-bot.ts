/**
 * A bot that answers a few frequent questions and hands the rest to people. It is an agent device
 * like any other: it reads a conversation only when the visitor's key shares name its device, which
 * they do once its certificate is on the roster the visitor verified.
 */
import {
  AgentSession,
  StoredStateError,
  type ChatMessage,
  type ClientStore,
  type ConversationProblem,
  type TranscriptNotice,
  type WebSocketConstructor,
} from '@sealchat/client';
import { SealchatError } from '@sealchat/protocol';
import { loadBotIdentity } from './device-request.js';
import { classify, DEFAULT_FAQS, type FaqEntry } from './faq.js';

/** What the bot says besides the answers themselves. */
export interface BotReplies {
  /** Put before the bot's first message in a conversation: visitors must know they talk to a machine. */
  readonly intro: string;
  /** After a question it cannot answer; `{topics}` becomes the list of what it can. */
  readonly notUnderstood: string;
  /** Its last message in a conversation. */
  readonly handOff: string;
}

export const DEFAULT_REPLIES: BotReplies = {
  intro: "Hi, I'm the shop's FAQ bot: an automated assistant, not a person.",
  notUnderstood:
    'Sorry, I can only answer questions about {topics}. Ask me about one of those, or write "human" to talk to a person.',
  handOff: 'A human will take over from here. Stay in this chat: they will see what you wrote.',
};

/**
 * What the bot logs: event kinds from fixed vocabularies and shortened conversation ids, never what
 * anyone wrote and never a key.
 */
export interface BotLogEntry {
  readonly event:
    | 'started'
    | 'state'
    | 'conversation'
    | 'answered'
    | 'not-understood'
    | 'handed-off'
    | 'ignored'
    | 'skipped'
    | 'problem'
    | 'transcript'
    | 'send-failed'
    | 'error'
    | 'refused'
    | 'stopped';
  /** The first 8 hex digits of the conversation id: enough to follow one conversation in the log. */
  readonly conversation?: string;
  /** A `SEALCHAT_E_*` code, for `problem` and `error`. */
  readonly code?: string;
  /** `state`: the connection state; `handed-off`: why; `transcript`: gap, reorder or fork; `skipped`: why. */
  readonly detail?: string;
}

export interface FaqBotOptions {
  /** ws:// or wss:// URL of the relay. */
  readonly relayUrl: string;
  /** The organisation root public key (32 bytes): `parseOrgKey` of the `sc1…` key pinned in the widget. */
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  /**
   * Holds the bot's identity (made by `createBotIdentity` and enrolled), the roster it last accepted,
   * and what it remembers of each conversation. On a server: a `FileClientStore`.
   */
  readonly store: ClientStore;
  /** Default {@link DEFAULT_FAQS}. */
  readonly faqs?: readonly FaqEntry[];
  readonly replies?: Partial<BotReplies>;
  /** Questions in a row it cannot answer before it hands off. Default 2. */
  readonly maxMisses?: number;
  /** How long it shows "typing" before an answer, in ms (0 to 60,000). Default 700. */
  readonly replyDelayMs?: number;
  /**
   * Messages it finds waiting when it starts (sent while it was offline) are answered only if sent
   * this recently, in ms; older ones are left to people. Live messages are always answered. Default 10 minutes.
   */
  readonly catchUpWindowMs?: number;
  /** Where log entries go. Default: nowhere. */
  readonly log?: (entry: BotLogEntry) => void;
  /** WebSocket implementation; pass `ws` on Node 20. */
  readonly WebSocket?: WebSocketConstructor;
}

/** Why the bot stopped: `close()` was called, or the relay refused the device (removed from the roster). */
export type StopReason = 'closed' | 'refused';

/** What the bot remembers of a conversation, kept in its store so a restart neither repeats nor resumes. */
interface Memory {
  /** Highest relay sequence number handled. */
  seq: number;
  /** Questions in a row it could not answer. */
  misses: number;
  introduced: boolean;
  handedOff: boolean;
}

const MEMORY_PREFIX = 'faq-bot/conversation/';
/** How long `close()` waits for answers already being sent (the relay may be unreachable). */
const CLOSE_GRACE_MS = 5000;

function parseMemory(value: unknown): Memory | undefined {
  if (value === undefined) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof value !== 'object' ||
    value === null ||
    !Number.isSafeInteger(v['seq']) ||
    !Number.isSafeInteger(v['misses']) ||
    typeof v['introduced'] !== 'boolean' ||
    typeof v['handedOff'] !== 'boolean'
  ) {
    throw new StoredStateError('Stored FAQ-bot conversation state is malformed');
  }
  return {
    seq: v['seq'] as number,
    misses: v['misses'] as number,
    introduced: v['introduced'],
    handedOff: v['handedOff'],
  };
}

/** The store holds no bot identity yet: make one with `faq-bot id` and enrol it. */
export class NoIdentityError extends SealchatError {
  constructor() {
    super('SEALCHAT_E_NO_IDENTITY', 'The key file holds no bot identity: run `faq-bot id`, then enrol the device');
  }
}

const short = (conversationId: string): string => conversationId.slice(0, 8);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a bot: connects as its agent device and answers in every conversation it can read.
 * @throws TypeError for a bad option; NoIdentityError when the store holds no bot identity; RelayRequestError `SEALCHAT_E_UNAUTHORIZED` when the device is not on the roster.
 */
export async function startFaqBot(options: FaqBotOptions): Promise<FaqBot> {
  const maxMisses = options.maxMisses ?? 2;
  const replyDelayMs = options.replyDelayMs ?? 700;
  const catchUpWindowMs = options.catchUpWindowMs ?? 10 * 60_000;
  if (!Number.isSafeInteger(maxMisses) || maxMisses < 1) {
    throw new TypeError(`maxMisses must be a positive integer, got ${maxMisses}`);
  }
  if (!Number.isSafeInteger(replyDelayMs) || replyDelayMs < 0 || replyDelayMs > 60_000) {
    throw new TypeError(`replyDelayMs must be an integer from 0 to 60000, got ${replyDelayMs}`);
  }
  if (!Number.isSafeInteger(catchUpWindowMs) || catchUpWindowMs < 0) {
    throw new TypeError(`catchUpWindowMs must be a non-negative integer, got ${catchUpWindowMs}`);
  }
  const faqs = options.faqs ?? DEFAULT_FAQS;
  if (faqs.length === 0) throw new TypeError('faqs must hold at least one entry');
  const identity = await loadBotIdentity(options.store);
  if (!identity) {
    throw new NoIdentityError();
  }
  const session = await AgentSession.start({
    relayUrl: options.relayUrl,
    orgRootKey: options.orgRootKey,
    identity,
    store: options.store,
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
  });
  const bot = new FaqBot(session, options.store, {
    faqs,
    replies: { ...DEFAULT_REPLIES, ...options.replies },
    maxMisses,
    replyDelayMs,
    catchUpWindowMs,
    log: options.log ?? (() => undefined),
  });
  await bot.begin();
  return bot;
}

interface Settings {
  readonly faqs: readonly FaqEntry[];
  readonly replies: BotReplies;
  readonly maxMisses: number;
  readonly replyDelayMs: number;
  readonly catchUpWindowMs: number;
  readonly log: (entry: BotLogEntry) => void;
}

/** A running bot. Create it with {@link startFaqBot}. */
export class FaqBot {
  /** Settles when the bot stops, with the reason. */
  readonly stopped: Promise<StopReason>;
  private resolveStopped!: (reason: StopReason) => void;
  private readonly memories = new Map<string, Promise<Memory>>();
  /** Per conversation, the tail of its work: messages are handled one at a time, in order. */
  private readonly work = new Map<string, Promise<void>>();
  private readonly handedOffIds = new Set<string>();
  private stopping = false;

  /** @internal */
  constructor(
    /** The bot's agent session: its conversations, and what it could decrypt in each. */
    readonly session: AgentSession,
    private readonly store: ClientStore,
    private readonly settings: Settings,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /**
   * Conversations the bot has handed to people, by id. It no longer answers or marks anything read
   * in them; a console would show them as waiting for an agent.
   */
  get handedOff(): ReadonlySet<string> {
    return this.handedOffIds;
  }

  /** Lets the answers being written reach the relay (for a few seconds at most), then disconnects. */
  async close(reason: StopReason = 'closed'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.race([Promise.all(this.work.values()), sleep(CLOSE_GRACE_MS)]);
    this.session.close();
    this.settings.log({ event: 'stopped', detail: reason });
    this.resolveStopped(reason);
  }

  /**
   * @internal Subscribes, recalls what it kept of each conversation, then goes through what the
   * session caught up on while it started.
   */
  async begin(): Promise<void> {
    const { session } = this;
    const log = this.settings.log;
    session.addEventListener('message', (event) => this.enqueue(event.detail, true));
    session.addEventListener('conversation', (event) =>
      log({ event: 'conversation', conversation: short(event.detail.id) }),
    );
    session.addEventListener('deleted', (event) => this.forget((event as CustomEvent<string>).detail));
    session.addEventListener('problem', (event: CustomEvent<ConversationProblem>) =>
      log({ event: 'problem', conversation: short(event.detail.conversationId), code: event.detail.error.code }),
    );
    session.addEventListener('transcript', (event: CustomEvent<TranscriptNotice>) =>
      log({ event: 'transcript', conversation: short(event.detail.conversationId), detail: event.detail.kind }),
    );
    session.addEventListener('state', (event) => log({ event: 'state', detail: event.detail }));
    session.addEventListener('error', (event) => {
      const { code } = event.detail;
      log({ event: 'error', code });
      // Removed from the roster (or its certificate expired): the relay will not take it back.
      if (code === 'SEALCHAT_E_UNAUTHORIZED') {
        log({ event: 'refused' });
        void this.close('refused');
      }
    });
    const known = session.conversationList;
    await Promise.all(known.map((conversation) => this.memoryOf(conversation.id)));
    log({ event: 'started' });
    for (const conversation of known) {
      log({ event: 'conversation', conversation: short(conversation.id) });
      for (const message of conversation.messages) this.enqueue(message, false);
    }
  }

  private enqueue(message: ChatMessage, live: boolean): void {
    if (this.stopping) return;
    if (message.mine) {
      if (message.state === 'failed')
        this.settings.log({ event: 'send-failed', conversation: short(message.conversationId) });
      return;
    }
    const id = message.conversationId;
    const next = (this.work.get(id) ?? Promise.resolve())
      .then(() => this.handle(message, live))
      .catch((error: unknown) =>
        this.settings.log({
          event: 'error',
          conversation: short(id),
          code: error instanceof SealchatError ? error.code : 'SEALCHAT_E_INTERNAL',
        }),
      );
    this.work.set(id, next);
    // Drop the tail once it is done, so the map holds only conversations with work in flight.
    void next.then(() => {
      if (this.work.get(id) === next) this.work.delete(id);
    });
  }

  private async handle(message: ChatMessage, live: boolean): Promise<void> {
    const id = message.conversationId;
    const memory = await this.memoryOf(id);
    if (message.seq === undefined || message.seq <= memory.seq || this.stopping) return;
    memory.seq = message.seq;
    const { log, replies, maxMisses } = this.settings;
    if (message.author === 'agent') {
      // A colleague wrote in this conversation: it is theirs now.
      if (!memory.handedOff) this.markHandedOff(id, memory, 'colleague');
      return this.remember(id, memory);
    }
    if (memory.handedOff) {
      log({ event: 'ignored', conversation: short(id) });
      return this.remember(id, memory);
    }
    if (message.fields !== undefined) {
      // Pre-chat answers are not a question.
      log({ event: 'skipped', conversation: short(id), detail: 'form' });
      return this.remember(id, memory);
    }
    if (!live && Date.now() - message.sentAt > this.settings.catchUpWindowMs) {
      log({ event: 'skipped', conversation: short(id), detail: 'old' });
      return this.remember(id, memory);
    }

    const verdict = classify(message.text, this.settings.faqs);
    let text: string;
    if (verdict.kind === 'answer') {
      memory.misses = 0;
      text = verdict.entry.answer;
    } else if (verdict.kind === 'miss' && memory.misses + 1 < maxMisses) {
      memory.misses += 1;
      text = replies.notUnderstood.replace('{topics}', topicList(this.settings.faqs));
    } else {
      this.markHandedOff(id, memory, verdict.kind === 'miss' ? 'not-understood' : 'asked');
      text = replies.handOff;
    }
    if (!memory.introduced) text = `${replies.intro} ${text}`;
    memory.introduced = true;
    // Remembered before it is sent: after a crash the bot stays silent rather than answering twice.
    await this.remember(id, memory);
    this.session.typing(id);
    if (this.settings.replyDelayMs > 0) await sleep(this.settings.replyDelayMs);
    const reply = await this.session.reply(id, text);
    // One answer at a time per conversation, each stored by the relay before the next is written.
    if ((await this.settled(reply.id)).state === 'failed') return;
    // It has read what it answered; after a hand-off the visitor's next words wait, unread, for a person.
    this.session.markRead(id);
    if (verdict.kind === 'answer') log({ event: 'answered', conversation: short(id) });
    else if (!memory.handedOff) log({ event: 'not-understood', conversation: short(id) });
  }

  /** The message once the relay stored it (or the outbox gave up on it). */
  private settled(messageId: string): Promise<ChatMessage> {
    return new Promise((resolve) => {
      const listener = (event: CustomEvent<ChatMessage>): void => {
        if (event.detail.id !== messageId || event.detail.state === 'sending') return;
        this.session.removeEventListener('message', listener);
        resolve(event.detail);
      };
      this.session.addEventListener('message', listener);
    });
  }

  private markHandedOff(id: string, memory: Memory, why: 'asked' | 'not-understood' | 'colleague'): void {
    memory.handedOff = true;
    this.handedOffIds.add(id);
    this.settings.log({ event: 'handed-off', conversation: short(id), detail: why });
  }

  private memoryOf(id: string): Promise<Memory> {
    let memory = this.memories.get(id);
    if (!memory) {
      memory = this.store.getRecord(MEMORY_PREFIX + id).then((value) => {
        const stored = parseMemory(value) ?? { seq: 0, misses: 0, introduced: false, handedOff: false };
        if (stored.handedOff) this.handedOffIds.add(id);
        return stored;
      });
      this.memories.set(id, memory);
    }
    return memory;
  }

  private remember(id: string, memory: Memory): Promise<void> {
    return this.store.putRecord(MEMORY_PREFIX + id, { ...memory });
  }

  /** The conversation was erased (by the visitor, or by retention): so is what the bot kept of it. */
  private forget(id: string): void {
    const previous = this.work.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      this.memories.delete(id);
      this.handedOffIds.delete(id);
      await this.store.deleteRecord(MEMORY_PREFIX + id);
    });
    this.work.set(
      id,
      next.catch(() => undefined),
    );
  }
}

/** "a, b and c". */
function topicList(faqs: readonly FaqEntry[]): string {
  const topics = faqs.map((f) => f.topic);
  return topics.length === 1 ? topics[0]! : `${topics.slice(0, -1).join(', ')} and ${topics.at(-1)!}`;
}
