// docs/operations.md stays true to the code: every metric is described, and the suggested alert
// rules load in Prometheus (promtool check rules) and name only metrics that exist.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { build } from '../helper.ts';

const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');

t.test('every metric of the registry is described in docs/operations.md', async (t) => {
  const { services } = await build(t);
  const names = (await services.metrics.registry.getMetricsAsJSON())
    .map((metric) => metric.name)
    .filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));
  t.ok(names.length >= 13);
  for (const name of names) t.match(doc, `\`${name}\``, `${name} is documented`);
  for (const section of [
    '## Metrics',
    '### Suggested alerts',
    '## Logs',
    '### WHOOP outage',
    '### WHOOP request quota exhausted',
    '### A connection stuck in Reconnect needed',
    '### Key rotation',
    '### Rotating the keyring key',
  ]) {
    t.ok(doc.includes(`\n${section}\n`), section);
  }
});

t.test('the suggested alert rules pass promtool and use existing metrics', async (t) => {
  const { services } = await build(t);
  const start = doc.indexOf('```yaml', doc.indexOf('### Suggested alerts'));
  const body = doc.slice(doc.indexOf('\n', start) + 1, doc.indexOf('```', start + 7));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alert-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'rules.yml');
  writeFileSync(file, body);
  const result = spawnSync(process.env.PROMTOOL ?? 'promtool', ['check', 'rules', file], {
    encoding: 'utf8',
  });
  t.equal(result.error, undefined, 'promtool runs (Debian package prometheus)');
  t.equal(result.status, 0, `${result.stdout}${result.stderr}`);

  const known = new Set((await services.metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
  const used = [
    ...body.matchAll(/\b((?:whoop|integration|worker|http)_[a-z_]+?)(?:_bucket|_count|_sum)?\b[{[]/g),
  ].map((match) => match[1] as string);
  t.ok(used.length >= 8, `${used.length} metric references`);
  t.same(
    used.filter((name) => !known.has(name)),
    [],
    'every metric the rules use exists',
  );
});
