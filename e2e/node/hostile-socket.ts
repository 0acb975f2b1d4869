import type { WebSocketConstructor, WebSocketLike } from '@sealchat/client';
import { decodeRelayFrame, encodeRelayFrame, type RelayFrame } from '@sealchat/protocol';
import { WebSocket } from 'ws';

/**
 * What a hostile relay does to the frames one client receives: return the frame (changed or not)
 * to pass it on, undefined to withhold it, several to inject frames before it. The client's own
 * frames reach the real relay untouched.
 */
export type RelayFilter = (frame: RelayFrame) => RelayFrame | readonly RelayFrame[] | undefined;

/**
 * A WebSocket (Node's `ws`) whose incoming frames go through `filter` first: the real relay behind
 * it, made hostile towards this one client (it withholds, renumbers or forges what the client sees).
 */
export function hostileSocket(filter: RelayFilter): WebSocketConstructor {
  return class HostileSocket implements WebSocketLike {
    private readonly _ws: WebSocket;
    constructor(url: string) {
      this._ws = new WebSocket(url);
    }
    get binaryType(): string {
      return this._ws.binaryType;
    }
    set binaryType(value: string) {
      this._ws.binaryType = value as WebSocket['binaryType'];
    }
    get readyState(): number {
      return this._ws.readyState;
    }
    send(data: Uint8Array): void {
      this._ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this._ws.close(code, reason);
    }
    addEventListener(
      type: 'open' | 'close' | 'error' | 'message',
      listener: (event: { data?: unknown }) => void,
    ): void {
      if (type !== 'message') {
        this._ws.addEventListener(type, () => listener({}));
        return;
      }
      this._ws.addEventListener('message', (event) => {
        const out = filter(decodeRelayFrame(new Uint8Array(event.data as ArrayBuffer)));
        const frames: readonly RelayFrame[] = out === undefined ? [] : 'kind' in out ? [out] : out;
        for (const frame of frames) listener({ data: encodeRelayFrame(frame).buffer });
      });
    }
  };
}
