import { createPool, type DatabasePool, type Interceptor, SchemaValidationError } from 'slonik';

// slonik's sql.type(schema) only types the result: this interceptor makes it validate (and coerce) each row.
const resultParserInterceptor: Interceptor = {
  name: 'result-parser',
  transformRowAsync: async (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const result = await parser['~standard'].validate(row);
    if (result.issues) throw new SchemaValidationError(query, row, result.issues);
    return result.value as typeof row;
  },
};

const parseTimestamp = (value: string): Date => new Date(value);

export interface DbPoolOptions {
  maximumPoolSize?: number;
  /** run after the row parser; bench/http.ts records each request's round trips with one */
  interceptors?: readonly Interceptor[];
}

// Chosen, not inherited: no transaction of ours spans a network call (WHOOP, KMS), so one that sits
// idle for seconds is a bug, and ending it frees its locks for Disconnect and the pages. The longest
// statement (a year of pages, a batch upsert) takes well under a second.
const STATEMENT_TIMEOUT_MS = 30_000;
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000;
const CONNECTION_TIMEOUT_MS = 10_000;

export async function createDbPool(url: string, options: DbPoolOptions = {}): Promise<DatabasePool> {
  return createPool(url, {
    interceptors: [resultParserInterceptor, ...(options.interceptors ?? [])],
    maximumPoolSize: options.maximumPoolSize ?? 10,
    statementTimeout: STATEMENT_TIMEOUT_MS,
    idleInTransactionSessionTimeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    typeParsers: [
      // Our ids stay far below 2^53; plain numbers keep templates and JSON simple.
      { name: 'int8', parse: (value: string) => Number.parseInt(value, 10) },
      { name: 'numeric', parse: (value: string) => Number.parseFloat(value) },
      { name: 'timestamptz', parse: parseTimestamp },
      { name: 'timestamp', parse: parseTimestamp },
      // A calendar date stays the 'YYYY-MM-DD' text Postgres gives: no time zone games.
      { name: 'date', parse: (value: string) => value },
    ],
  });
}

export type { DatabasePool };
