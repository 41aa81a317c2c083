// Only the WHOOP client side (src/services/whoop/**) may open tokens; the rest of the app gets results.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { build } from '../helper.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|eta)$/.test(entry.name) ? [full] : [];
  });
}

t.test('no module outside src/services/whoop opens a sealed token', async (t) => {
  const allowed = [
    path.join('src', 'services', 'whoop') + path.sep,
    path.join('src', 'services', 'token-vault') + path.sep,
  ];
  const offenders = sourceFiles('src')
    .filter((file) => !allowed.some((prefix) => file.startsWith(prefix)))
    .filter((file) => /\b(vault|tokens|tokenStore)\.open\(/.test(readFileSync(file, 'utf8')));
  t.same(offenders, []);
});

t.test('the services handed to routes and jobs expose nothing that returns a token', async (t) => {
  const { services } = await build(t);
  const names = Object.entries(services).flatMap(([area, value]) =>
    value && typeof value === 'object' ? Object.keys(value).map((key) => `${area}.${key}`) : [area],
  );
  t.same(
    names.filter((name) => /^open|(token|secret)s?$/i.test(name.split('.').at(-1) ?? '')),
    [],
    `no open/token accessor among: ${names.join(', ')}`,
  );
});
