import { expect, it } from 'vitest';
import { startSalesforceEmulator } from './index.js';
import { checksumSuffix } from './ids.js';

// Bad input is refused with a 4xx, never a crash: odd paths, bodies and token requests.
it('never answers 500 to odd input', async () => {
  const id = `00D5g000004FuZz${checksumSuffix('00D5g000004FuZz')}`;
  const e = await startSalesforceEmulator({
    orgs: [
      {
        organizationId: id,
        users: 5,
        admins: 1,
        frozen: 1,
        inactive: 1,
        files: 3,
        connectedApps: [{ consumerKey: 'k', consumerSecret: 'secretsecret', username: 'i@x.com' }],
      },
    ],
  });
  const org = e.org(id);
  const tok = (
    (await (
      await fetch(`${org.instanceUrl}/services/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'k', client_secret: 'secretsecret' }),
      })
    ).json()) as { access_token: string }
  ).access_token;
  const paths = [
    '/services/data/v62.0/sobjects/%E0%A4%A',
    '/services/data/v62.0/query?q=%27',
    "/services/data/v62.0/query?q=SELECT Id FROM User WHERE Name = 'x",
    '/services/data/v62.0/composite',
    '/services/data/v62.0/composite/sobjects',
    '/services/data/v62.0/sobjects/User/005',
    '/services/data/v62.0/query/xx-1',
    '/services/data/v62.0/sobjects/ContentVersion',
  ];
  const bodies = [
    undefined,
    '[]',
    '{',
    '"x"',
    '{"compositeRequest": 5}',
    '{"records": [{}]}',
    'null',
    '{"VersionData": 5, "PathOnClient": "a"}',
  ];
  for (const p of paths)
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE'])
      for (const body of method === 'GET' || method === 'DELETE' ? [undefined] : bodies) {
        const r = await fetch(`${org.instanceUrl}${p}`, {
          method,
          headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body }),
        });
        expect(r.status, `${method} ${p} ${body}`).toBeLessThan(500);
      }
  for (const body of [
    '',
    'grant_type=x',
    'grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=a.b.c',
    'grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=e30.e30.e30',
  ]) {
    const r = await fetch(`${e.loginUrl}/services/oauth2/token`, { method: 'POST', body });
    expect(r.status).toBe(400);
  }
  await e.stop();
});
