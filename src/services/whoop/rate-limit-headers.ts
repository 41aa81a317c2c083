// X-RateLimit-* as WHOOP sends them:
//   X-RateLimit-Limit: 100, 100;window=60, 10000;window=86400   (first number: the window closest to exhaustion)
//   X-RateLimit-Remaining: 42   X-RateLimit-Reset: 17           (of that closest window; reset in seconds)

export interface RateWindowInfo {
  limit: number;
  windowMs: number;
}

export interface RateLimitReport {
  /** the shorter and the longer window (WHOOP: per minute and per day) */
  minute: RateWindowInfo;
  day: RateWindowInfo;
  /** which window `remaining` and `resetMs` describe */
  reported: 'minute' | 'day';
  remaining: number;
  resetMs: number;
}

type HeaderValue = string | string[] | undefined;

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function wholeNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value.trim());
}

/** undefined when the headers are missing or not in WHOOP's shape. */
export function parseRateLimitHeaders(headers: Record<string, HeaderValue>): RateLimitReport | undefined {
  const limitHeader = single(headers['x-ratelimit-limit']);
  const remaining = wholeNumber(single(headers['x-ratelimit-remaining']));
  const resetSeconds = wholeNumber(single(headers['x-ratelimit-reset']));
  if (!limitHeader || remaining === undefined || resetSeconds === undefined) return undefined;
  const [firstPart, ...policyParts] = limitHeader.split(',').map((part) => part.trim());
  const first = wholeNumber(firstPart);
  const windows: RateWindowInfo[] = [];
  for (const part of policyParts) {
    const match = /^(\d+)\s*;\s*window=(\d+)$/.exec(part);
    if (match) windows.push({ limit: Number(match[1]), windowMs: Number(match[2]) * 1000 });
  }
  if (first === undefined || windows.length === 0) return undefined;
  windows.sort((a, b) => a.windowMs - b.windowMs);
  const minute = windows[0] as RateWindowInfo;
  const day = windows[windows.length - 1] as RateWindowInfo;
  // The first number names the closest window by its limit; equal limits are read as the shorter window.
  const reported = minute.limit === first || day.limit !== first ? 'minute' : 'day';
  return { minute, day, reported, remaining, resetMs: resetSeconds * 1000 };
}
