import { UniqueIntegrityConstraintViolationError } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from './db/pool.ts';
import { sql } from './db/sql.ts';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from './form-text.ts';
import { createPasswordHasher, type PasswordHasher } from './passwords.ts';
import { isValidTimeZone } from './time-zones.ts';

export const userRow = z.object({
  id: z.number(),
  email: z.string(),
  display_name: z.string(),
  time_zone: z.string(),
});
export type User = z.infer<typeof userRow>;

const credentialsRow = userRow.extend({ password_hash: z.string() });

export const displayNameField = z
  .string()
  .trim()
  .min(1, 'Enter your name.')
  .max(100, 'Name must be at most 100 characters.')
  .refine((value) => !hasControlCharacters(value), CONTROL_CHARACTER_MESSAGE);

export const signUpInput = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254, 'Email is too long.')
    .refine((value) => !hasControlCharacters(value), CONTROL_CHARACTER_MESSAGE)
    .pipe(z.email({ message: 'Enter a valid email address.' })),
  password: z
    .string()
    .min(10, 'Password must be at least 10 characters.')
    .max(200, 'Password must be at most 200 characters.')
    .refine((value) => !hasControlCharacters(value), CONTROL_CHARACTER_MESSAGE),
  displayName: displayNameField,
  timeZone: z.string().trim().refine(isValidTimeZone, 'Choose a valid time zone.').catch('UTC'),
});
export type SignUpInput = z.infer<typeof signUpInput>;

export class EmailTakenError extends Error {
  constructor() {
    super('An account with this email already exists.');
    this.name = 'EmailTakenError';
  }
}

const userColumns = sql.fragment`id, email, display_name, time_zone`;

export function createUserService(deps: { pool: DatabasePool; passwords?: PasswordHasher }) {
  const { pool } = deps;
  const passwords = deps.passwords ?? createPasswordHasher();
  return {
    async signUp(input: SignUpInput): Promise<User> {
      const passwordHash = await passwords.hash(input.password);
      try {
        return await pool.one(sql.type(userRow)`
          INSERT INTO app_user (email, password_hash, display_name, time_zone)
          VALUES (${input.email}, ${passwordHash}, ${input.displayName}, ${input.timeZone})
          RETURNING ${userColumns}
        `);
      } catch (error) {
        if (error instanceof UniqueIntegrityConstraintViolationError) throw new EmailTakenError();
        throw error;
      }
    },

    // Returns the user only when email and password both match; callers show one generic message.
    async authenticate(email: string, password: string): Promise<User | null> {
      const row = await pool.maybeOne(sql.type(credentialsRow)`
        SELECT ${userColumns}, password_hash FROM app_user WHERE email = ${email.trim().toLowerCase()}
      `);
      if (!row) {
        await passwords.verify(password, await passwords.dummyHash());
        return null;
      }
      if (!(await passwords.verify(password, row.password_hash))) return null;
      if (passwords.needsRehash(row.password_hash)) {
        await pool.query(sql.typeAlias('void')`
          UPDATE app_user SET password_hash = ${await passwords.hash(password)}, updated_at = now() WHERE id = ${row.id}
        `);
      }
      const { password_hash: _ignored, ...user } = row;
      return user;
    },

    async findById(id: number): Promise<User | null> {
      return pool.maybeOne(sql.type(userRow)`SELECT ${userColumns} FROM app_user WHERE id = ${id}`);
    },

    async updateSettings(id: number, settings: { displayName: string; timeZone: string }): Promise<User> {
      return pool.one(sql.type(userRow)`
        UPDATE app_user SET display_name = ${settings.displayName}, time_zone = ${settings.timeZone}, updated_at = now()
        WHERE id = ${id}
        RETURNING ${userColumns}
      `);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
