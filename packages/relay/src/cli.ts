#!/usr/bin/env node
/**
 * `sealchat-relay`: the one command an operator runs. Exit codes: 0 after a clean shutdown or a
 * finished command, 1 when the relay or a command fails (port taken, database unreadable, relay
 * still running during a restore), 2 for a bad flag or environment value.
 *
 *   sealchat-relay [serve] [options]           run the relay
 *   sealchat-relay backup --db X --out Y       online backup
 *   sealchat-relay restore --from Y --db X     restore (relay stopped), bumps the epoch
 *   sealchat-relay org add|list|remove ...     organisations, their origins and retention
 *   sealchat-relay epoch renew --db X           new epoch after pg_restore (relays stopped)
 */
import { DEFAULT_RELAY_OPTIONS, parseRelayOptions, RELAY_USAGE } from './options.js';
import { createJsonLogger } from './logger.js';
import { startRelay } from './relay-server.js';
import { runAdminCommand, UsageError } from './admin-commands.js';

async function serve(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseRelayOptions(argv, process.env);
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

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const command = argv[0];
  if (command === 'backup' || command === 'restore' || command === 'org' || command === 'epoch') {
    try {
      const output = await runAdminCommand(argv, process.env['SEALCHAT_DB'] || DEFAULT_RELAY_OPTIONS.dbPath);
      process.stdout.write(output);
      return 0;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`sealchat-relay ${command}: ${message}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
  }
  return serve(command === 'serve' ? argv.slice(1) : argv);
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
