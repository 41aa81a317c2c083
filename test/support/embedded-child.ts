// Started by a test, then hard-killed: leaves an orphaned postmaster behind on purpose.
import { startEmbeddedPostgres } from '../../src/services/db/embedded.ts';

const [dataDir, port] = process.argv.slice(2);
if (!dataDir || !port) throw new Error('usage: embedded-child.ts DATA_DIR PORT');
await startEmbeddedPostgres({ dataDir, port: Number(port) });
process.stdout.write('ready\n');
setInterval(() => {}, 1000);
