// Logging in and signing up, behind the throttles: a client address gets a few attempts a minute, an
// account a few failed logins before each further one blocks it for longer (see auth-throttle.ts).
import type { AuthThrottle } from './auth-throttle.ts';
import type { SignUpInput, User, UserService } from './users.ts';

export type LogInOutcome =
  | { outcome: 'logged_in'; user: User }
  | { outcome: 'refused' }
  | { outcome: 'throttled'; retryAfterSeconds: number; scope: 'address' | 'account' };

export type SignUpOutcome =
  | { outcome: 'created'; user: User }
  | { outcome: 'throttled'; retryAfterSeconds: number; scope: 'address' };

export function createSignIn(deps: { users: UserService; throttle: AuthThrottle }) {
  const { users, throttle } = deps;
  return {
    async logIn(input: { email: string; password: string; address: string }): Promise<LogInOutcome> {
      const fromAddress = await throttle.attemptFrom(input.address, 'login');
      if (!fromAddress.allowed)
        return { outcome: 'throttled', retryAfterSeconds: fromAddress.retryAfterSeconds, scope: 'address' };
      // A blocked account is refused before its password is even checked.
      const account = await throttle.accountBlocked(input.email);
      if (!account.allowed)
        return { outcome: 'throttled', retryAfterSeconds: account.retryAfterSeconds, scope: 'account' };
      const user =
        input.email && input.password ? await users.authenticate(input.email, input.password) : null;
      if (!user) {
        if (input.email) await throttle.accountFailed(input.email);
        return { outcome: 'refused' };
      }
      await throttle.accountSucceeded(input.email);
      return { outcome: 'logged_in', user };
    },

    /** Throws EmailTakenError when the email is in use. */
    async signUp(input: SignUpInput & { address: string }): Promise<SignUpOutcome> {
      const fromAddress = await throttle.attemptFrom(input.address, 'signup');
      if (!fromAddress.allowed)
        return { outcome: 'throttled', retryAfterSeconds: fromAddress.retryAfterSeconds, scope: 'address' };
      const { address: _address, ...account } = input;
      return { outcome: 'created', user: await users.signUp(account) };
    },
  };
}

export type SignIn = ReturnType<typeof createSignIn>;
