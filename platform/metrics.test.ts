import { ApolloServer } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { BoundedLabel, exposition, graphqlMetricsPlugin, MAX_OPERATION_NAMES, serviceRegistry } from './metrics.js';

describe('BoundedLabel', () => {
  it('keeps the first `max` distinct values and answers `other` for every later one', () => {
    const label = new BoundedLabel(3);
    expect(['a', 'b', 'a', 'c'].map((v) => label.of(v))).toEqual(['a', 'b', 'a', 'c']);
    expect(label.of('d')).toBe('other');
    expect(label.of('a')).toBe('a');
    expect(label.size).toBe(3);
  });

  it('takes neither an overlong value nor "other" itself as a name of its own', () => {
    const label = new BoundedLabel(10);
    expect(label.of('x'.repeat(101))).toBe('other');
    expect(label.of('other')).toBe('other');
    expect(label.size).toBe(0);
  });
});

describe('graphqlMetricsPlugin', () => {
  it('counts 250 distinct operation names as the first 200 and "other"', async () => {
    const registry = serviceRegistry('test');
    const server = new ApolloServer({
      typeDefs: 'type Query { hello: String }',
      resolvers: { Query: { hello: () => 'hi' } },
      plugins: [graphqlMetricsPlugin(registry)],
    });
    await server.start();
    try {
      for (let i = 0; i < 250; i++) await server.executeOperation({ query: `query Op${i} { hello }` });
      await server.executeOperation({ query: '{ hello }' });
      await server.executeOperation({ query: '{ nope }' });
    } finally {
      await server.stop();
    }
    const requests = (await registry.getSingleMetric('tenantwatch_graphql_requests_total')!.get()).values;
    const byOperation = new Map(requests.map((v) => [v.labels.operation, v.value]));
    // 200 names, `other`, and `unknown` (refused before its operation was known: the invalid one).
    expect(byOperation.size).toBe(MAX_OPERATION_NAMES + 2);
    expect(byOperation.get('Op0')).toBe(1);
    expect(byOperation.get('Op199')).toBe(1);
    expect(byOperation.has('Op200')).toBe(false);
    // Op200 to Op249, and the anonymous query: the 200 places were taken first.
    expect(byOperation.get('other')).toBe(50 + 1);
    expect(byOperation.get('unknown')).toBe(1);
    const errors = (await registry.getSingleMetric('tenantwatch_graphql_errors_total')!.get()).values;
    expect(errors).toEqual([expect.objectContaining({ labels: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }), value: 1 })]);
  });

  it('keeps each service’s series apart in one process, with the process metrics once in each exposition', async () => {
    const gateway = serviceRegistry('gateway');
    const accounts = serviceRegistry('accounts');
    graphqlMetricsPlugin(gateway);
    graphqlMetricsPlugin(accounts);
    const text = await exposition(accounts);
    expect(text).toContain('# TYPE tenantwatch_graphql_requests_total counter');
    expect(text.match(/^# TYPE tenantwatch_process_resident_memory_bytes /gm)).toHaveLength(1);
    expect(await exposition(gateway)).toMatch(/^tenantwatch_process_resident_memory_bytes \d+/m);
  });
});
