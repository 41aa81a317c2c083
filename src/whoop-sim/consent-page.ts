// Plain HTML forms, no JavaScript: a browser test clicks "Grant", a tap test POSTs the same form.

const SCOPE_LABELS: Record<string, string> = {
  'read:recovery': 'Read your recovery data, including score, heart rate variability and resting heart rate',
  'read:cycles': 'Read your cycles, including day strain and average heart rate',
  'read:workout': 'Read your workouts, including activity strain and heart rate zones',
  'read:sleep': 'Read your sleep data, including performance and stage durations',
  'read:profile': 'Read your name and email address',
  'read:body_measurement': 'Read your height, weight and max heart rate',
  offline: 'Keep access while you are not using the app (refresh tokens)',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
button{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem}.sim{color:#666;font-size:.8rem}</style></head>
<body>
${body}
<p class="sim">WHOOP simulator: a local stand-in for development and tests.</p>
</body>
</html>`;
}

export interface ConsentMember {
  userId: number;
  name: string;
  email: string;
}

export function consentPage(input: {
  clientName: string;
  scopes: string[];
  members: ConsentMember[];
  selectedUserId: number;
  hidden: Record<string, string>;
}): string {
  const selected = input.members.find((m) => m.userId === input.selectedUserId) ?? input.members[0];
  const options = input.members
    .map(
      (m) =>
        `<option value="${m.userId}"${m.userId === selected?.userId ? ' selected' : ''}>${escapeHtml(
          `${m.name} (${m.email}) #${m.userId}`,
        )}</option>`,
    )
    .join('\n      ');
  const hidden = Object.entries(input.hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n    ');
  const scopes = input.scopes
    .map((s) => `<li><code>${escapeHtml(s)}</code>: ${escapeHtml(SCOPE_LABELS[s] ?? s)}</li>`)
    .join('\n    ');
  return layout(
    'Authorize access to your WHOOP data',
    `<h1>Authorize ${escapeHtml(input.clientName)}</h1>
<p id="member">Signed in as <strong>${escapeHtml(selected?.name ?? '')}</strong> (${escapeHtml(selected?.email ?? '')})</p>
<p>${escapeHtml(input.clientName)} is requesting permission to:</p>
<ul id="scopes">
    ${scopes}
</ul>
<form method="post" action="/oauth/oauth2/consent">
    ${hidden}
    <p><label for="user_id">WHOOP member</label>
    <select id="user_id" name="user_id">
      ${options}
    </select></p>
    <button type="submit" name="decision" value="grant">Grant</button>
    <button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p id="error">${escapeHtml(message)}</p>`);
}
