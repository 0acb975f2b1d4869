import { randomBytes } from '../bytes.js';
import { decodeClientFrame, encodeRelayFrame, type ClientFrame, type RelayFrame } from '../wire.js';

type Answer = RelayFrame | readonly RelayFrame[] | undefined;

/** A relay installed in the page by {@link installPageRelay}. */
export interface PageRelay {
  /** The kind of every frame a client sent it, in order. */
  readonly asked: ClientFrame['kind'][];
  /** Puts back the `WebSocket` the page had before this relay was installed. */
  restore(): void;
}

/**
 * Installs a relay inside the page as the global `WebSocket`, for browser tests of elements that open
 * their own socket. Each socket opens in its own task and is challenged; every frame a client sends
 * is answered with what `answer` returns for it (frames in order, none for `undefined`), each frame
 * in a task of its own as a real relay's arrive, and none once the socket is closed.
 */
export function installPageRelay(answer: (frame: ClientFrame) => Answer | Promise<Answer>): PageRelay {
  const scope = globalThis as { WebSocket: unknown };
  const previous = scope.WebSocket;
  const asked: ClientFrame['kind'][] = [];

  class PageSocket extends EventTarget {
    binaryType = 'arraybuffer';
    readyState = 0;
    constructor() {
      super();
      setTimeout(() => {
        this.readyState = 1;
        this.dispatchEvent(new Event('open'));
        this.reply({ kind: 'challenge', nonce: randomBytes(32) });
      });
    }
    send(data: Uint8Array): void {
      const frame = decodeClientFrame(data);
      asked.push(frame.kind);
      void Promise.resolve(answer(frame)).then((frames) => {
        for (const reply of frames === undefined ? [] : 'kind' in frames ? [frames] : frames) this.reply(reply);
      });
    }
    close(): void {
      this.readyState = 3;
    }
    private reply(frame: RelayFrame): void {
      const data = encodeRelayFrame(frame).slice().buffer;
      setTimeout(() => this.readyState === 1 && this.dispatchEvent(new MessageEvent('message', { data })));
    }
  }

  scope.WebSocket = PageSocket;
  return {
    asked,
    restore() {
      scope.WebSocket = previous;
    },
  };
}
