const supported = new Set(Intl.supportedValuesOf('timeZone'));
supported.add('UTC');

export function isValidTimeZone(value: string): boolean {
  return supported.has(value);
}

export function listTimeZones(): string[] {
  return [...supported].sort();
}
