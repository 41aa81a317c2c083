// Control characters are never typed into a form: NUL is refused by PostgreSQL (a 500 if it got that
// far), and the others (bell, escape, DEL...) only hide text from whoever reads it later. Tab, line
// feed and carriage return are typed in multi-line fields such as notes.
export const CONTROL_CHARACTER_MESSAGE =
  'Remove the control characters (invisible characters such as NUL) from this field.';

const isControl = (code: number, multiline: boolean) =>
  (code < 0x20 && !(multiline && (code === 0x09 || code === 0x0a || code === 0x0d))) || code === 0x7f;

export function hasControlCharacters(value: string, options: { multiline?: boolean } = {}): boolean {
  const multiline = options.multiline ?? false;
  for (let i = 0; i < value.length; i++) if (isControl(value.charCodeAt(i), multiline)) return true;
  return false;
}

/** What a refused form shows back in its fields: the text as typed, without the invisible characters. */
export function withoutControlCharacters<T extends Record<string, unknown>>(values: T): T {
  const cleaned: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    cleaned[key] =
      typeof value === 'string'
        ? [...value].filter((char) => !isControl(char.charCodeAt(0), true)).join('')
        : value;
  }
  return cleaned as T;
}
