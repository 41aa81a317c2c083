// Replays the suites whose WHOOP data the simulator makes "as of now" with its clock pinned to awkward
// instants (just before and after midnight UTC, the hour main's CI once failed at, noon), while other
// processes keep both cores busy. A test that depends on the hour fails here at some instant.
// Usage: npm run test:clock [-- rounds]. Prints one line per run and closes with "N passed, N failed".
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';

const DAY_MS = 86_400_000;
// The suites whose assertions depend on what the simulator's data holds at its "now" (in-progress
// sleeps and workouts, today's cycle, the newest night); the others test mechanisms, whatever the hour.
const SUITE = [
  'test/sync/first-sync.test.ts',
  'test/sync/local-dates.test.ts',
  'test/sync/sync-now.test.ts',
  'test/sync/schedule.test.ts',
  'test/pages/synced-member.test.ts',
  'test/observability/bounded-labels.test.ts',
  'test/observability/sync-history.test.ts',
];
const BROWSER_SUITE = ['e2e/sync.test.ts'];

/** The latest past instant (at least a minute ago) at this UTC wall-clock time. */
function latestAt(hours: number, minutes: number, seconds: number): Date {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hours, minutes, seconds);
  return new Date(today <= now.getTime() - 60_000 ? today : today - DAY_MS);
}

const instants = [latestAt(23, 59, 30), latestAt(0, 0, 30), latestAt(1, 50, 0), latestAt(12, 0, 0)];
const rounds = Number.parseInt(process.argv[2] ?? '1', 10) || 1;

// Spins in short slices so that it notices its parent going away (the IPC channel closes) and ends.
const SPIN = `
  const end = Date.now() + Number(process.argv[1]);
  process.on('disconnect', () => process.exit(0));
  const spin = () => {
    const slice = Date.now() + 50;
    while (Date.now() < slice);
    if (Date.now() < end) setImmediate(spin);
    else process.exit(0);
  };
  spin();
`;

/** Busy loops on every core, each ending by itself after `limitMs`, or when this process ends. */
function cpuLoad(limitMs: number): ChildProcess[] {
  return Array.from({ length: os.availableParallelism() }, () =>
    spawn(process.execPath, ['-e', SPIN, String(limitMs)], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }),
  );
}

function run(suite: 'unit' | 'e2e', files: string[], simNow: Date) {
  return new Promise<{ pass: number; fail: number; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['test/support/run-suite.ts', suite, '--disable-coverage', '--reporter=tap', ...files],
      { env: { ...process.env, TEST_SIM_NOW: simNow.toISOString() }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => {
      const summary = [...output.matchAll(/^# \{ total: \d+, pass: (\d+)(?:, fail: (\d+))?/gm)].at(-1);
      const pass = Number(summary?.[1] ?? 0);
      // No summary, or a non-zero exit without failures counted, is one failure.
      const fail = Number(summary?.[2] ?? 0) || (code === 0 && summary ? 0 : 1);
      resolve({ pass, fail, output });
    });
  });
}

let passed = 0;
let failed = 0;
const load = cpuLoad(60 * 60_000);
try {
  for (let round = 1; round <= rounds; round++) {
    for (const instant of instants) {
      for (const [suite, files] of [
        ['unit', SUITE],
        ['e2e', BROWSER_SUITE],
      ] as const) {
        const result = await run(suite, files, instant);
        passed += result.pass;
        failed += result.fail;
        process.stdout.write(
          `round ${round}, simulator at ${instant.toISOString()}, ${suite}: ${result.pass} passed, ${result.fail} failed\n`,
        );
        if (result.fail > 0) {
          const failures = result.output.split('\n').filter((line) => /^\s*not ok /.test(line));
          process.stdout.write(`${failures.join('\n')}\n`);
        }
      }
    }
  }
} finally {
  for (const child of load) child.kill();
}
process.stdout.write(`clock matrix: ${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
