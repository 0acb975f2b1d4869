import { describe, expect, it } from 'vitest';
import { DEFAULT_RELAY_OPTIONS, parseRelayOptions, resolveRelayOptions } from './options.js';

describe('parseRelayOptions', () => {
  it('gives safe defaults with no flags', () => {
    const { help, options } = parseRelayOptions([], {});
    expect(help).toBe(false);
    expect(options).toEqual(DEFAULT_RELAY_OPTIONS);
    expect(options.host).toBe('127.0.0.1');
    expect(options.port).toBe(8787);
    expect(options.demo).toBe(false);
    expect(options.maxFrameBytes).toBe(65536);
  });

  it('reads flags in both forms, repeatable origins and orgs, and lets flags override env', () => {
    const { options } = parseRelayOptions(
      [
        '--port',
        '0',
        '--host=0.0.0.0',
        '--db',
        '/tmp/x.db',
        '--demo',
        '--allow-origin',
        'https://a.example',
        '--allow-origin=http://localhost:5173',
        '--org',
        'sc1abc',
      ],
      { SEALCHAT_PORT: '9000', SEALCHAT_ALLOW_ORIGIN: 'https://env.example' },
    );
    expect(options).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      dbPath: '/tmp/x.db',
      demo: true,
      allowedOrigins: ['https://a.example', 'http://localhost:5173'],
      orgKeys: ['sc1abc'],
    });
  });

  it('reads the environment', () => {
    const { options } = parseRelayOptions([], {
      SEALCHAT_PORT: '9000',
      SEALCHAT_HOST: '::1',
      SEALCHAT_DB: 'x.db',
      SEALCHAT_DEMO: '1',
      SEALCHAT_ALLOW_ORIGIN: 'https://a.example, https://b.example',
    });
    expect(options).toMatchObject({
      port: 9000,
      host: '::1',
      dbPath: 'x.db',
      demo: true,
      allowedOrigins: ['https://a.example', 'https://b.example'],
    });
  });

  it('reads the relay’s public origins from flags and the environment', () => {
    const flags = parseRelayOptions(['--public-origin', 'wss://a.example', '--public-origin=ws://b.example:8080'], {});
    expect(flags.options.publicOrigins).toEqual(['wss://a.example', 'ws://b.example:8080']);
    const env = parseRelayOptions([], { SEALCHAT_PUBLIC_ORIGIN: 'wss://a.example, wss://b.example' });
    expect(env.options.publicOrigins).toEqual(['wss://a.example', 'wss://b.example']);
    expect(parseRelayOptions([], {}).options.publicOrigins).toEqual([]);
  });

  it('recognises --help', () => {
    expect(parseRelayOptions(['--help'], {}).help).toBe(true);
  });

  it.each([
    [['--port', 'abc'], {}, 'The --port flag must be an integer from 0 to 65535, got "abc"'],
    [['--port', '70000'], {}, 'The --port flag must be an integer from 0 to 65535, got "70000"'],
    [['--port'], {}, 'The --port flag needs a value'],
    [['--db', '--demo'], {}, 'The --db flag needs a value'],
    [
      ['--allow-origin', 'https://a.example/'],
      {},
      'The --allow-origin flag got "https://a.example/", which is not an origin like "https://shop.example"',
    ],
    [['--org', 'pk1xyz'], {}, 'The --org flag needs an organisation key starting with "sc1"'],
    [
      ['--public-origin', 'https://chat.example'],
      {},
      'The --public-origin flag got "https://chat.example", which is not an origin like "wss://relay.example"',
    ],
    [
      ['--public-origin', 'wss://chat.example:443'],
      {},
      'The --public-origin flag got "wss://chat.example:443", which is not an origin like "wss://relay.example"',
    ],
    [['--demo=yes'], {}, 'The --demo flag takes no value'],
    [['--verbose'], {}, 'Unknown flag "--verbose"; see --help'],
    [[], { SEALCHAT_PORT: '-1' }, 'SEALCHAT_PORT must be an integer from 0 to 65535, got "-1"'],
    [[], { SEALCHAT_DEMO: 'true' }, 'SEALCHAT_DEMO must be 1 or 0, got "true"'],
  ] as const)('throws a TypeError naming the flag for %j %j', (argv, env, message) => {
    expect(() => parseRelayOptions(argv, env)).toThrow(new TypeError(message));
  });
});

describe('resolveRelayOptions', () => {
  it('checks limits at once with a TypeError naming the option', () => {
    expect(() => resolveRelayOptions({ maxFrameBytes: 10 })).toThrow(
      new TypeError('The maxFrameBytes option must be an integer from 1024 to 16777216'),
    );
    expect(() => resolveRelayOptions({ maxConversationsPerSocket: 1.5 })).toThrow(TypeError);
    expect(() => resolveRelayOptions({ allowedOrigins: ['nope'] })).toThrow(TypeError);
    expect(() => resolveRelayOptions({ publicOrigins: ['wss://a.example/path'] })).toThrow(TypeError);
    expect(() => resolveRelayOptions({ publicOrigins: Array(17).fill('wss://a.example') })).toThrow(
      new TypeError('The publicOrigins option must be an array of at most 16 origins'),
    );
  });
});
