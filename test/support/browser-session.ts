import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** A cookie-keeping client over app.inject that reads CSRF tokens from the pages like a browser would. */
export class BrowserSession {
  readonly app: FastifyInstance;
  cookies = new Map<string, string>();

  constructor(app: FastifyInstance) {
    this.app = app;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.expires && cookie.expires.getTime() < Date.now()))
        this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: 'GET',
      url,
      headers: { cookie: this.cookieHeader(), ...headers },
    });
    this.remember(response);
    return response;
  }

  async post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: 'POST',
      url,
      payload: new URLSearchParams(form).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: this.cookieHeader(),
        ...headers,
      },
    });
    this.remember(response);
    return response;
  }

  /** Loads `pageUrl`, takes the CSRF token of its first form, and submits `form` to `action`. */
  async submit(
    pageUrl: string,
    action: string,
    form: Record<string, string>,
  ): Promise<LightMyRequestResponse> {
    const page = await this.get(pageUrl);
    const token = csrfTokenFrom(page.body);
    return this.post(action, { _csrf: token, ...form });
  }
}

export function csrfTokenFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

export async function signUp(
  session: BrowserSession,
  user: { email: string; password?: string; displayName?: string; timeZone?: string },
): Promise<LightMyRequestResponse> {
  return session.submit('/signup', '/signup', {
    email: user.email,
    password: user.password ?? 'correct horse battery',
    displayName: user.displayName ?? 'Test Person',
    timeZone: user.timeZone ?? 'UTC',
  });
}
