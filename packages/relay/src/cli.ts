#!/usr/bin/env node
/**
 * `sealchat-relay`: the one command an operator runs. Exit codes: 0 after a clean shutdown, 1 when
 * the relay cannot start (port taken, database unreadable), 2 for a bad flag or environment value.
 */
import { createJsonLogger } from './logger.js';
import { parseRelayOptions, RELAY_USAGE } from './options.js';
import { startRelay } from './relay-server.js';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseRelayOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    process.stderr.write(`sealchat-relay: ${error.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(RELAY_USAGE);
    return 0;
  }
  const logger = createJsonLogger(process.stdout);
  let relay;
  try {
    relay = await startRelay(parsed.options, { logger });
  } catch (error) {
    if (error instanceof TypeError) {
      process.stderr.write(`sealchat-relay: ${error.message}\n`);
      return 2;
    }
    logger.log('error', 'start-failed', { error: error instanceof Error ? error.message : String(error) });
    return 1;
  }
  const running = relay;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      logger.log('info', 'shutting-down', { signal });
      running.close().then(resolve, (error: unknown) => {
        logger.log('error', 'shutdown-failed', { error: error instanceof Error ? error.name : String(error) });
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`sealchat-relay: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
