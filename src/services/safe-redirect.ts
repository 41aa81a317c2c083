// Where to send someone after login: only a path on this site. Browsers strip tabs and newlines from
// URLs and read a backslash as a slash, so "/\t/evil.example" or "/\evil.example" would leave the site
// although it starts with one slash; such targets are refused before the URL is even parsed.
const unsafeChar = (char: string) => char <= ' ' || char === '\u007f' || char === '\\';

export function safeRedirectTarget(next: unknown, publicBaseUrl: string): string {
  if (
    typeof next !== 'string' ||
    !next.startsWith('/') ||
    next.startsWith('//') ||
    [...next].some(unsafeChar)
  )
    return '/';
  let target: URL;
  try {
    target = new URL(next, publicBaseUrl);
  } catch {
    return '/';
  }
  if (target.origin !== new URL(publicBaseUrl).origin) return '/';
  return `${target.pathname}${target.search}${target.hash}`;
}
