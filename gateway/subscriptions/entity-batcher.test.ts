import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { describe, expect, it } from 'vitest';
import type { GatewayContext } from '../context.js';
import { EntityBatcher } from './entity-batcher.js';

// A recording data source stands in for a subgraph: what is under test is how requests are merged and answers split.
type Options = GraphQLDataSourceProcessOptions<GatewayContext>;
const ENTITIES = 'query E($representations:[_Any!]!){_entities(representations:$representations){...on Account{email}}}';

function recordingSource(answer: (options: Options) => GatewayGraphQLResponse | Error) {
  const sent: Options[] = [];
  const source: GraphQLDataSource<GatewayContext> = {
    process: async (options) => {
      sent.push(options as Options);
      const response = answer(options as Options);
      if (response instanceof Error) throw response;
      return response;
    },
  };
  return { sent, source };
}

const request = (ids: readonly string[], authorization = 'Bearer a', query = ENTITIES): Options =>
  ({
    kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
    request: { query, variables: { representations: ids.map((id) => ({ __typename: 'Account', id })) } },
    context: { authorization, principal: { subject: 's', role: 'analyst' } },
    incomingRequestContext: {},
  }) as unknown as Options;

/** Answers each representation with its email, and an error for id "bad". */
const byId = (options: Options): GatewayGraphQLResponse => {
  const representations = options.request.variables!.representations as { id: string }[];
  return {
    data: { _entities: representations.map((r) => (r.id === 'bad' ? null : { email: `${r.id}@example.com` })) },
    errors: representations.flatMap((r, i) => (r.id === 'bad' ? [{ message: 'no such account', path: ['_entities', i, 'email'] }] : [])),
  };
};

describe('EntityBatcher', () => {
  it('sends the entity fetches of one turn as one request and gives each caller its slice', async () => {
    const { sent, source } = recordingSource(byId);
    const batcher = new EntityBatcher(source);
    const answers = await Promise.all([
      batcher.process(request(['a', 'b'])),
      batcher.process(request(['c'])),
      batcher.process(request(['d', 'e'])),
    ]);
    expect(sent).toHaveLength(1);
    expect((sent[0]!.request.variables!.representations as { id: string }[]).map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(answers.map((a) => a.data?._entities)).toEqual([
      [{ email: 'a@example.com' }, { email: 'b@example.com' }],
      [{ email: 'c@example.com' }],
      [{ email: 'd@example.com' }, { email: 'e@example.com' }],
    ]);
    expect(answers.every((a) => a.errors === undefined)).toBe(true);
  });

  it("re-indexes an entity's error for the caller it belongs to, and gives errors without an index to every caller", async () => {
    const { source } = recordingSource((options) => {
      const answer = byId(options);
      return { ...answer, errors: [...(answer.errors ?? []), { message: 'partial outage' }] };
    });
    const batcher = new EntityBatcher(source);
    const [first, second] = await Promise.all([batcher.process(request(['a'])), batcher.process(request(['b', 'bad']))]);
    expect(first!.errors).toEqual([{ message: 'partial outage' }]);
    expect(second!.errors).toEqual([{ message: 'no such account', path: ['_entities', 1, 'email'] }, { message: 'partial outage' }]);
    expect(second!.data?._entities).toEqual([{ email: 'b@example.com' }, null]);
  });

  it('keeps requests with another query or Authorization apart, and later turns in requests of their own', async () => {
    const { sent, source } = recordingSource(byId);
    const batcher = new EntityBatcher(source);
    await Promise.all([
      batcher.process(request(['a'])),
      batcher.process(request(['b'], 'Bearer other')),
      batcher.process(request(['c'], 'Bearer a', `${ENTITIES} `)),
    ]);
    expect(sent).toHaveLength(3);
    await batcher.process(request(['d']));
    expect(sent).toHaveLength(4);
  });

  it('rejects every caller of a batch whose request fails, and passes requests without representations through', async () => {
    const { sent, source } = recordingSource(() => new Error('Subgraph "accounts" is unavailable'));
    const batcher = new EntityBatcher(source);
    const results = await Promise.allSettled([batcher.process(request(['a'])), batcher.process(request(['b']))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(sent).toHaveLength(1);
    const plain = { ...request([]), request: { query: '{ __typename }' } } as Options;
    await expect(batcher.process(plain)).rejects.toThrow('unavailable');
    expect(sent).toHaveLength(2);
  });
});
