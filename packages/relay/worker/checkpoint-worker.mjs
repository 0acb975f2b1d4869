// WAL checkpoints off the relay's event loop (see src/checkpointer.ts). A plain JavaScript module,
// so the same worker runs whether the relay runs from src/ (tests) or dist/ (the CLI).
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { default: Database } = await import(pathToFileURL(workerData.driver).href);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy: the next tick tries again.
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
