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
}

export async function createDbPool(url: string, options: DbPoolOptions = {}): Promise<DatabasePool> {
  return createPool(url, {
    interceptors: [resultParserInterceptor],
    maximumPoolSize: options.maximumPoolSize ?? 10,
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
