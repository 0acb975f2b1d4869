import { SealchatError, type ConversationMode } from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';
import type { TranscriptNotice } from './conversation.js';
import { ConnectionLostError, toSealchatError } from './errors.js';
import { Outbox } from './outbox.js';
import type { ConnectionState } from './relay-connection.js';
import { VisitorSession, type VisitorSessionOptions } from './visitor-session.js';

/**
 * What the widget's panel needs from the visitor's side of a chat. {@link openVisitorChat} returns
 * one; events: `message` (a ChatMessage added or changed), `state`, `transcript`, `typing`,
 * `presence` (boolean: an agent is online), `deleted`, `error`. docs/visitor-continuity.md has the
 * offline, reload and several-tabs behaviour.
 */
export interface VisitorChat extends EventTarget {
  readonly messages: readonly ChatMessage[];
  readonly notices: readonly TranscriptNotice[];
  readonly state: ConnectionState;
  readonly agentsOnline: boolean | undefined;
  readonly conversationId: string | undefined;
  /**
   * True when this instance runs the session (this tab talks to the relay and writes the store);
   * false while it mirrors the tab that does. A follower becomes leader when that tab closes
   * (a `state` event tells).
   */
  readonly leader: boolean;
  send(text: string): Promise<ChatMessage>;
  sendForm(fields: readonly { name: string; value: string }[]): Promise<ChatMessage>;
  retry(): void;
  markAllRead(): void;
  typingNow(): void;
  safetyCode(): Promise<string | undefined>;
  deleteConversation(): Promise<void>;
  close(): void;
}

export interface VisitorChatOptions extends VisitorSessionOptions {
  readonly mode?: ConversationMode;
}

/**
 * Opens the visitor's chat for an organisation, without waiting for the relay: the local history
 * shows at once, offline too. Where the browser has Web Locks and BroadcastChannel, the tabs of a
 * site share one session: one tab leads, the others mirror it (see {@link VisitorChat.leader}).
 * @throws OrgKeyFormatError when `orgKey` is mistyped; StoredStateError when the stored pointer is corrupt.
 */
export async function openVisitorChat(options: VisitorChatOptions): Promise<VisitorChat> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks || typeof BroadcastChannel !== 'function') return VisitorSession.open(options);
  const chat = new TabChat(options, `sealchat-visitor ${options.orgKey}`);
  try {
    await chat.start(locks);
  } catch (error) {
    chat.close();
    throw error;
  }
  return chat;
}

/** Events a follower mirrors; `error` details travel as `{ code, message }`. */
const EVENTS = ['message', 'state', 'transcript', 'typing', 'presence', 'deleted', 'error'];
/** The leader posts what followers need at most once per this many ms (a catch-up is one post, not hundreds). */
const BATCH_MS = 30;
/** How long a new follower waits for the leader's first snapshot before it resolves anyway. */
const SNAPSHOT_WAIT_MS = 1000;
/** How long a follower's forwarded action waits for the leader's answer. */
const CALL_TIMEOUT_MS = 15_000;

type Action = 'send' | 'sendForm' | 'retry' | 'markAllRead' | 'typingNow' | 'safetyCode' | 'deleteConversation';
type Snapshot = Pick<VisitorChat, 'messages' | 'notices' | 'state' | 'agentsOnline' | 'conversationId'>;
interface WireError {
  code: string;
  message: string;
}

/** What tabs say on the channel (same origin only: it is as trusted as the page itself). */
interface Post {
  /** Follower → leader: send me a snapshot. */
  hello?: true;
  /** Leader → followers: the state now, and the events since the last post. */
  snap?: Snapshot;
  events?: [string, unknown][];
  /** Follower → leader: run `action(...args)` and answer under this id, unless past `until` (ms epoch). */
  call?: string;
  until?: number;
  action?: Action;
  args?: unknown[];
  /** Leader → follower: the answer to call `reply`. */
  reply?: string;
  value?: unknown;
  error?: WireError;
}

const wire = (error: unknown): WireError => {
  const { code, message } = toSealchatError(error);
  return { code, message };
};
const lost = (message = 'The tab that runs the chat did not answer; try again'): Post => ({
  error: { code: 'SEALCHAT_E_CONNECTION_LOST', message },
});

/** Calls a session method by name (for an action another tab forwarded). */
function invoke(session: VisitorSession, action: Action, args: unknown[]): unknown {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- applied with the session as `this`
  return Reflect.apply(session[action], session, args);
}

/**
 * One tab's view of the shared chat. The tab holding the Web Lock leads: it runs the
 * {@link VisitorSession} and posts its state on a BroadcastChannel; the others follow: they show
 * what it posts and forward actions to it. Only the leader writes the store, and it releases the
 * lock only after its last write, so two sessions of this device never write at once.
 */
class TabChat extends EventTarget implements VisitorChat {
  private _session: VisitorSession | undefined;
  private _mirror: Snapshot = {
    messages: [],
    notices: [],
    state: 'connecting',
    agentsOnline: undefined,
    conversationId: undefined,
  };
  private readonly _channel: BroadcastChannel;
  /** Forwarded actions waiting for the leader's answer, with what to run if this tab leads first. */
  private readonly _calls = new Map<string, [settle: (answer: Post) => void, action: Action, args: unknown[]]>();
  private readonly _stop = new AbortController();
  private readonly _held: Promise<void>;
  private _release!: () => void;
  private _synced: (() => void) | undefined;
  private _batch: [string, unknown][] = [];
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _closed = false;

  constructor(
    private readonly _options: VisitorChatOptions,
    private readonly _name: string,
  ) {
    super();
    this._held = new Promise((resolve) => (this._release = resolve));
    this._channel = new BroadcastChannel(this._name);
    this._channel.onmessage = (event: MessageEvent<Post>) => this._receive(event.data);
  }

  get leader(): boolean {
    return !!this._session;
  }
  get messages(): readonly ChatMessage[] {
    return (this._session ?? this._mirror).messages;
  }
  get notices(): readonly TranscriptNotice[] {
    return (this._session ?? this._mirror).notices;
  }
  get state(): ConnectionState {
    return (this._session ?? this._mirror).state;
  }
  get agentsOnline(): boolean | undefined {
    return (this._session ?? this._mirror).agentsOnline;
  }
  get conversationId(): string | undefined {
    return (this._session ?? this._mirror).conversationId;
  }

  /** Leads if the lock is free (resolving once the session is open), else follows and queues to lead. */
  start(locks: LockManager): Promise<void> {
    return new Promise((resolve, reject) => {
      locks
        .request(this._name, { ifAvailable: true }, async (lock) => {
          if (lock) {
            await this._lead();
            resolve();
            return this._held;
          }
          locks
            .request(this._name, { signal: this._stop.signal }, () =>
              this._lead().then(
                () => this._held,
                (error: unknown) => this._dispatch('error', toSealchatError(error)),
              ),
            )
            .catch(() => undefined); // aborted by close()
          this._synced = resolve;
          setTimeout(resolve, SNAPSHOT_WAIT_MS);
          this._post({ hello: true });
        })
        .catch(reject);
    });
  }

  // Sends carry their message id, so the tab that takes over can run them again without sending twice.
  send(text: string): Promise<ChatMessage> {
    return this._run('send', text, Outbox.newClientMessageId()) as Promise<ChatMessage>;
  }
  sendForm(fields: readonly { name: string; value: string }[]): Promise<ChatMessage> {
    return this._run('sendForm', fields, Outbox.newClientMessageId()) as Promise<ChatMessage>;
  }
  retry(): void {
    this._fire('retry');
  }
  markAllRead(): void {
    this._fire('markAllRead');
  }
  typingNow(): void {
    this._fire('typingNow');
  }
  safetyCode(): Promise<string | undefined> {
    return this._run('safetyCode') as Promise<string | undefined>;
  }
  deleteConversation(): Promise<void> {
    return this._run('deleteConversation') as Promise<void>;
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    this._stop.abort();
    clearTimeout(this._timer);
    this._channel.close();
    this._settleCalls();
    const session = this._session;
    // The next leader starts from the store: let the last write land before it may.
    if (session) {
      session.close();
      void session.flush().finally(this._release);
    } else this._release();
  }

  private async _lead(): Promise<void> {
    if (this._closed) return;
    const session = await VisitorSession.open(this._options);
    if (this._closed) {
      session.close();
      return session.flush();
    }
    this._session = session;
    for (const type of EVENTS)
      session.addEventListener(type, (event) => this._relay(type, (event as CustomEvent<unknown>).detail));
    this._settleCalls(session);
    this._relay('state', session.state);
  }

  /**
   * Settles the calls sent to a leader that is gone: they may or may not have run there. A new
   * leader runs them again: a send that did run is in the store its session opened, under its id,
   * and is not sent twice. Only a deletion is not repeated (it would delete what was written since):
   * it fails with "try again". Closing fails them all.
   */
  private _settleCalls(session?: VisitorSession): void {
    for (const [settle, action, args] of this._calls.values())
      if (session && action !== 'deleteConversation') void this._answer(session, action, args).then(settle);
      else settle(lost(session ? undefined : 'The chat was closed'));
    this._calls.clear();
  }

  private _dispatch(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Leader: shows an event here and queues it for the followers. */
  private _relay(type: string, detail: unknown): void {
    this._dispatch(type, detail);
    this._batch.push([type, type === 'error' ? wire(detail) : detail]);
    this._timer ??= setTimeout(() => {
      this._timer = undefined;
      this._post({ snap: this._snapshot(), events: this._batch.splice(0) });
    }, BATCH_MS);
  }

  private _snapshot(): Snapshot {
    const { messages, notices, state, agentsOnline, conversationId } = this._session!;
    return { messages, notices, state, agentsOnline, conversationId };
  }

  private _post(post: Post): void {
    if (!this._closed) this._channel.postMessage(post);
  }

  private _receive(post: Post): void {
    const session = this._session;
    if (session) {
      if (post.hello) this._post({ snap: this._snapshot(), events: [] });
      const id = post.call;
      // A tab that was frozen wakes to calls the follower has already reported as failed: not run.
      if (id && post.until! > Date.now())
        void this._answer(session, post.action!, post.args ?? []).then((answer) =>
          this._post({ ...answer, reply: id }),
        );
    } else if (post.snap) {
      this._mirror = post.snap;
      this._synced?.();
      const events: [string, unknown][] = post.events?.length ? post.events : [['state', post.snap.state]];
      for (const [type, detail] of events) {
        const e = detail as WireError;
        this._dispatch(type, type === 'error' ? new SealchatError(e.code, e.message) : detail);
      }
    } else if (post.reply) {
      this._calls.get(post.reply)?.[0](post);
      this._calls.delete(post.reply);
    }
  }

  /** Runs an action on the session, as an answer that can travel to another tab. */
  private async _answer(session: VisitorSession, action: Action, args: unknown[]): Promise<Post> {
    try {
      return { value: await invoke(session, action, args) };
    } catch (error) {
      return { error: wire(error) };
    }
  }

  /** Runs an action on the session: here when leading, else in the leader's tab. */
  private _run(action: Action, ...args: unknown[]): Promise<unknown> {
    const session = this._session;
    if (session) return Promise.resolve().then(() => invoke(session, action, args));
    return new Promise((resolve, reject) => {
      if (this._closed) return reject(new ConnectionLostError('The chat was closed'));
      const id = crypto.randomUUID();
      this._calls.set(id, [
        ({ error, value }) => (error ? reject(new SealchatError(error.code, error.message)) : resolve(value)),
        action,
        args,
      ]);
      this._post({ call: id, action, args, until: Date.now() + CALL_TIMEOUT_MS });
      setTimeout(() => {
        this._calls.get(id)?.[0](lost());
        this._calls.delete(id);
      }, CALL_TIMEOUT_MS);
    });
  }

  /** An action whose outcome shows in events; not reaching the leader is an `error` event. */
  private _fire(action: Action): void {
    this._run(action).catch((error: unknown) => this._dispatch('error', toSealchatError(error)));
  }
}
