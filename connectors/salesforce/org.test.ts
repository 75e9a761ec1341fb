import { describe, expect, it } from 'vitest';
import { PermanentError, type ProviderHttp, type ProviderRequest } from '../contract.js';
import { OrgFiles } from './files.js';
import { Org } from './org.js';
import type { ContentDocumentRecord } from './records.js';

const V = '/services/data/v62.0';
const OWNER = '005000000000001AAA';

/**
 * An org's `/composite` as Salesforce documents it: at most 5 query subrequests in one request, else
 * the whole request is refused 400 LIMIT_EXCEEDED (as emulators/salesforce answers; the scheduler's
 * client throws a 400 as a PermanentError). Each ContentDocumentLink query answers one link per
 * document of its IN list (the owner's), each other query no record.
 */
function compositeOrg() {
  const composites: number[] = [];
  const http = {
    async request(request: ProviderRequest) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe(`${V}/composite`);
      const body = JSON.parse(request.rawBody!.bytes.toString('utf8')) as {
        compositeRequest: { method: string; url: string; referenceId: string }[];
      };
      const queries = body.compositeRequest.filter((s) => /\/(query|queryAll)\b/.test(s.url));
      composites.push(queries.length);
      if (queries.length > 5)
        throw new PermanentError('A composite request can have at most 5 query or sObject Collection subrequests', 400);
      const compositeResponse = body.compositeRequest.map((s) => {
        const soql = new URLSearchParams(s.url.split('?')[1]).get('q')!;
        const ids = /IN \(([^)]*)\)/
          .exec(soql)![1]!
          .split(',')
          .map((id) => id.slice(1, -1));
        const object = /FROM (\w+)/.exec(soql)![1]!;
        const records =
          object === 'ContentDocumentLink'
            ? ids.map((id, i) => ({ Id: `06A${i}`, ContentDocumentId: id, LinkedEntityId: OWNER, ShareType: 'I', Visibility: 'AllUsers' }))
            : [];
        return {
          body: { totalSize: records.length, done: true, records },
          httpHeaders: {},
          httpStatusCode: 200,
          referenceId: s.referenceId,
        };
      });
      const bytes = Buffer.from(JSON.stringify({ compositeResponse }));
      return { status: 200, headers: new Headers({ 'content-type': 'application/json' }), body: JSON.parse(bytes.toString()), bytes };
    },
  } as unknown as ProviderHttp;
  return { org: new Org(http, 'https://acme.my.salesforce.com', '62.0'), composites };
}

const documentId = (i: number) => `069${String(i).padStart(12, '0')}AAA`;

describe('Org.many: queries through the composite API', () => {
  it('sends at most 5 queries in one composite request, and answers each query in order', async () => {
    const { org, composites } = compositeOrg();
    const soqls = Array.from(
      { length: 12 },
      (_, i) => `SELECT Id, ContentDocumentId FROM ContentDocumentLink WHERE ContentDocumentId IN ('${documentId(i)}')`,
    );
    const results = await org.many<{ ContentDocumentId: string }>(soqls);
    // 12 queries in 3 requests (one had been refused 400, the whole request, with 25 to a request).
    expect(composites).toEqual([5, 5, 2]);
    expect(results.map((records) => records.map((r) => r.ContentDocumentId))).toEqual(soqls.map((_, i) => [documentId(i)]));
  });

  it('reads the sharing of a listing page of 2,000 documents (Salesforce’s default batch) without a refused request', async () => {
    const { org, composites } = compositeOrg();
    const files = new OrgFiles(org, async () => new Set());
    const documents = Array.from(
      { length: 2000 },
      (_, i) =>
        ({
          Id: documentId(i),
          Title: `file ${i}`,
          FileExtension: 'txt',
          FileType: 'TEXT',
          ContentSize: 1,
          OwnerId: OWNER,
          LatestPublishedVersionId: '068000000000001AAA',
          SystemModstamp: '2026-12-01T09:30:00.000+0000',
          ContentModifiedDate: '2026-12-01T09:30:00.000+0000',
        }) as unknown as ContentDocumentRecord,
    );
    const listed = await files.withSharing(documents);
    expect(listed).toHaveLength(2000);
    // 10 lists of 200 ids, each asked for its links and its public links: 20 queries in 4 requests.
    expect(composites).toEqual([5, 5, 5, 5]);
  });
});
