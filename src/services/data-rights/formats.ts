// How one database value is written in the export's JSON and CSV files. The pool hands over Dates
// (timestamptz), numbers (int8, numeric), 'YYYY-MM-DD' strings (date), parsed jsonb, arrays and Buffers
// (bytea): instants become ISO 8601 in UTC, bytes become hex, and in CSV nested values become JSON text.

/** A value as it goes into a JSON file. */
export function jsonValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return value;
}

/** One JSON row; Dates serialize as ISO 8601 through their toJSON. */
export function jsonRow(row: Readonly<Record<string, unknown>>, columns: readonly string[]): string {
  const out: Record<string, unknown> = {};
  for (const column of columns) out[column] = jsonValue(row[column]);
  return JSON.stringify(out);
}

function csvText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180: a field with a quote, comma or line break is quoted, and its quotes doubled. */
export function csvField(value: unknown): string {
  const text = csvText(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, CRLF-terminated as RFC 4180 says. */
export function csvRecord(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
