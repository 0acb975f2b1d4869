import {
  decodeCoreRelayFrame,
  encodeCoreClientFrame,
  type ClientFrame,
  type CoreClientFrame,
  type RelayFrame,
  SealchatError,
  type WireCodec,
} from '@sealchat/protocol';
import { ConnectionLostError, RelayRequestError } from './errors.js';

/** The parts of the standard WebSocket API we use; the browser's WebSocket and the `ws` package both fit. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: { data?: unknown }) => void): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

type Request = Exclude<ClientFrame, never>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A client frame without its request id, which the connection assigns. */
export type RequestFrame = DistributiveOmit<Request, 'requestId'>;

export interface RelayConnectionOptions {
  /** WebSocket implementation; defaults to the global one (browsers, Node 22+). Pass `ws` on Node 20. */
  readonly WebSocket?: WebSocketConstructor;
  /** How long a request waits for its answer before failing. Default 15 s. */
  readonly requestTimeoutMs?: number;
  /** First reconnect delay; doubles up to `maxReconnectDelayMs`, with jitter. Default 500 ms. */
  readonly reconnectDelayMs?: number;
  /** Default 10 s. */
  readonly maxReconnectDelayMs?: number;
  /**
   * How long one connection attempt may take, until the relay's challenge arrives, before it is
   * abandoned and retried. Without it, an attempt whose TCP connection was accepted but never
   * answered (a relay mid-restart, a stuck proxy) would wait forever. Default 10 s.
   */
  readonly connectTimeoutMs?: number;
  /**
   * The frames this connection speaks beyond the core set (what a visitor sends and receives):
   * `agentWire` from @sealchat/protocol for an agent's or supervisor's session. Without it, a request
   * with an agent frame is rejected with a TypeError, and the agent codec stays out of a visitor's bundle.
   */
  readonly wire?: WireCodec;
}

/** The core frames alone: a visitor's connection. */
const coreWire: WireCodec = {
  encodeClientFrame: (frame) => encodeCoreClientFrame(frame as CoreClientFrame),
  decodeRelayFrame: decodeCoreRelayFrame,
};

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface RelayConnectionEventMap {
  /** A fresh socket is open and the relay sent its challenge: (re-)authenticate and resume here. */
  connected: CustomEvent<{ challenge: Uint8Array<ArrayBuffer> }>;
  /** A frame nobody asked for: live records, new conversations, roster pushes. */
  frame: CustomEvent<RelayFrame>;
  state: CustomEvent<ConnectionState>;
}

interface Pending {
  resolve(frame: RelayFrame): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One WebSocket to the relay, re-opened with backoff whenever it drops. It pairs requests with
 * answers by request id and hands everything else to listeners. Resuming what was missed is the
 * job of the `connected` listeners, which re-attach with their last sequence numbers.
 */
export class RelayConnection extends EventTarget {
  private socket: WebSocketLike | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private reconnectDelay: number;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly requestTimeoutMs: number;
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private readonly connectTimeoutMs: number;
  private readonly wire: WireCodec;
  state: ConnectionState = 'closed';

  constructor(
    readonly url: string,
    options: RelayConnectionOptions = {},
  ) {
    super();
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) throw new TypeError('No WebSocket: pass options.WebSocket (`ws` on Node 20)');
    if (!/^wss?:\/\//.test(url))
      throw new TypeError(`The relay URL must start with ws:// or wss://, got ${JSON.stringify(url)}`);
    this.WebSocketImpl = impl;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.baseDelay = options.reconnectDelayMs ?? 500;
    this.maxDelay = options.maxReconnectDelayMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.wire = options.wire ?? coreWire;
    this.reconnectDelay = this.baseDelay;
  }

  /** Opens the socket (and keeps re-opening it until {@link close}). */
  open(): void {
    this.stopped = false;
    if (!this.socket) this.connect();
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    this.socket?.close(1000, 'bye');
    this.socket = undefined;
    this.failPending();
    this.setState('closed');
  }

  /**
   * Sends a frame and resolves with the relay's answer to it.
   * @throws RelayRequestError when the relay answers with an error frame.
   * @throws ConnectionLostError when the socket is not open or closes first, or the answer times out.
   * @throws TypeError for a frame outside this connection's codec (an agent frame without `options.wire`).
   */
  request(frame: RequestFrame): Promise<RelayFrame> {
    const socket = this.socket;
    if (!socket || this.state !== 'open') return Promise.reject(new ConnectionLostError('Not connected to the relay'));
    const requestId = this.nextRequestId++;
    if (this.nextRequestId > 0xffffffff) this.nextRequestId = 1;
    return new Promise((resolve, reject) => {
      // Encoded first: a frame it cannot encode rejects before anything waits for an answer.
      const bytes = this.wire.encodeClientFrame({ ...frame, requestId });
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ConnectionLostError('The relay did not answer in time'));
      }, this.requestTimeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      socket.send(bytes);
    });
  }

  override addEventListener<K extends keyof RelayConnectionEventMap>(
    type: K,
    listener: (event: RelayConnectionEventMap[K]) => void,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    super.addEventListener(type, listener);
  }

  private connect(): void {
    this.setState('connecting');
    const socket = new this.WebSocketImpl(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.addEventListener('message', (event) => {
      if (this.socket === socket) this.onMessage(event.data);
    });
    socket.addEventListener('close', () => {
      if (this.socket === socket) this.dropSocket();
    });
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (this.socket !== socket || this.state === 'open') return;
      // Abandon the attempt ourselves: a socket stuck before its handshake may never fire 'close'.
      this.dropSocket();
      socket.close();
    }, this.connectTimeoutMs);
    // 'error' is always followed by 'close', which does the work.
    socket.addEventListener('error', () => undefined);
  }

  private onMessage(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    let frame: RelayFrame;
    try {
      frame = this.wire.decodeRelayFrame(new Uint8Array(data));
    } catch (error) {
      // A relay that sends garbage is treated like a broken connection: drop it and reconnect.
      if (error instanceof SealchatError) this.socket?.close(4000, 'bad frame');
      return;
    }
    if (frame.kind === 'challenge') {
      clearTimeout(this.connectTimer);
      this.reconnectDelay = this.baseDelay;
      this.setState('open');
      this.dispatchEvent(new CustomEvent('connected', { detail: { challenge: frame.nonce } }));
      return;
    }
    const requestId = 'requestId' in frame ? frame.requestId : 0;
    const pending = requestId ? this.pending.get(requestId) : undefined;
    if (pending) {
      this.pending.delete(requestId);
      clearTimeout(pending.timer);
      if (frame.kind === 'error') pending.reject(new RelayRequestError(frame.code, frame.message));
      else pending.resolve(frame);
      return;
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  private dropSocket(): void {
    clearTimeout(this.connectTimer);
    this.socket = undefined;
    this.failPending();
    this.setState('closed');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = this.reconnectDelay * (0.75 + Math.random() * 0.5);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.maxDelay);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private failPending(): void {
    for (const [, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionLostError());
    }
    this.pending.clear();
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}
