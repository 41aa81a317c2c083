// A person signs up and links a simulator member through the real authorize -> code -> exchange
// round trip (which enqueues the first sync), as the benches need it before they measure anything.
import type { Services } from '../../src/services/index.ts';
import { WHOOP_REQUESTED_SCOPES } from '../../src/services/whoop/settings.ts';
import type { WhoopSimulator } from '../../src/whoop-sim/index.ts';

export async function linkSimulatorMember(
  services: Services,
  sim: WhoopSimulator,
  input: { memberId: number; email: string; clientId: string; redirectUri: string },
): Promise<{ connectionId: number; userId: number }> {
  const user = await services.users.signUp({
    email: input.email,
    password: 'correct horse battery',
    displayName: input.email.split('@')[0] ?? 'Bench',
    timeZone: 'UTC',
  });
  sim.setConsent({ autoApprove: 'grant', defaultUserId: input.memberId });
  const authorize = new URL(`${sim.oauthBaseUrl}/auth`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: input.clientId,
    redirect_uri: input.redirectUri,
    scope: WHOOP_REQUESTED_SCOPES.join(' '),
    state: `bench-state-${input.email}`,
  }).toString();
  const consent = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location') ?? 'http://invalid').searchParams.get('code');
  if (!code) throw new Error(`no code from the simulator: ${consent.status}`);
  const linked = await services.whoop.exchangeCode({ userId: user.id, code });
  return { connectionId: linked.connectionId, userId: user.id };
}
