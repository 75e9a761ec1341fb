import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '../contract.js';
import { simulatedConnectorFactory } from './connector.js';
import { directHttp } from './direct-http.js';
import { decideFault } from './faults.js';
import { call, simulator, smallTenant, waitFor } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';
const N = 300;

/** N calls of /api/v1/me, 20 at a time; answers each outcome. */
async function hammer(url: string): Promise<(number | 'dropped')[]> {
  const outcomes: (number | 'dropped')[] = [];
  for (let i = 0; i < N; i += 20) {
    const batch = Array.from({ length: 20 }, () =>
      fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 'dropped' as const,
      ),
    );
    outcomes.push(...(await Promise.all(batch)));
  }
  return outcomes;
}

const share = (outcomes: readonly unknown[], value: unknown) => outcomes.filter((o) => o === value).length / outcomes.length;

describe('fault injection', () => {
  it('decides drops, errors, throttles and slow answers by the configured shares', () => {
    const draws = [0.05, 0.15, 0.25, 0.5, 0.1];
    let i = 0;
    const random = () => draws[i++ % draws.length]!;
    const faults = { dropRate: 0.1, errorRate: 0.1, throttleRate: 0.1, slowRate: 0.2, slowMs: 50 };
    expect(decideFault(faults, random)).toEqual({ kind: 'drop' });
    expect(decideFault(faults, random)).toEqual({ kind: 'error' });
    expect(decideFault(faults, random)).toEqual({ kind: 'throttle' });
    expect(decideFault(faults, random)).toEqual({ kind: 'slow', ms: 50 });
  });

  it('answers 503 at about errorRate, and the connector sees a TransientError', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ faults: { errorRate: 0.3 } })] });
    const outcomes = await hammer(sim.url);
    expect(share(outcomes, 503)).toBeGreaterThan(0.18);
    expect(share(outcomes, 503)).toBeLessThan(0.42);
    expect(share(outcomes, 503) + share(outcomes, 200)).toBe(1);
    expect(sim.tenant('acme').stats().routes['GET /api/v1/me']!.statuses['503']).toBe(outcomes.filter((o) => o === 503).length);

    sim.tenant('acme').setFaults({ errorRate: 1 });
    const connector = simulatedConnectorFactory.create(
      { endpoint: sim.url, token: TOKEN },
      directHttp(simulatedConnectorFactory, { endpoint: sim.url, token: TOKEN }),
    );
    await expect(connector.verify()).rejects.toMatchObject({ name: 'TransientError', status: 503 });
    const body = await call<{ error: string }>(sim.url, '/api/v1/me', TOKEN);
    expect(body).toMatchObject({ status: 503, body: { error: 'unavailable' } });
  });

  it('drops connections at about dropRate, counted as dropped, seen by the connector as a TransientError', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ faults: { dropRate: 0.3 } })] });
    const outcomes = await hammer(sim.url);
    expect(share(outcomes, 'dropped')).toBeGreaterThan(0.18);
    expect(share(outcomes, 'dropped')).toBeLessThan(0.42);
    expect(sim.tenant('acme').stats().routes['GET /api/v1/me']!.statuses.dropped).toBe(outcomes.filter((o) => o === 'dropped').length);

    sim.tenant('acme').setFaults({ dropRate: 1 });
    const connector = simulatedConnectorFactory.create(
      { endpoint: sim.url, token: TOKEN },
      directHttp(simulatedConnectorFactory, { endpoint: sim.url, token: TOKEN }),
    );
    await expect(connector.listUsers(null)).rejects.toBeInstanceOf(TransientError);
  });

  it('slows answers by slowMs, and never touches the admin API', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ faults: { slowRate: 1, slowMs: 150, errorRate: 0 } })] });
    const started = performance.now();
    expect((await call(sim.url, '/api/v1/me', TOKEN)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    sim.tenant('acme').setFaults({ errorRate: 1, dropRate: 0, slowRate: 0 });
    for (const path of ['/admin/tenants/acme/truth', '/admin/tenants/acme/stats', '/admin/tenants']) {
      expect((await call(sim.url, path, null)).status).toBe(200);
    }
  });

  it('stops cleanly while a slow answer is pending', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ faults: { slowRate: 1, slowMs: 60_000 } })] });
    const pending = fetch(`${sim.url}/api/v1/me`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
      () => 'answered',
      () => 'closed',
    );
    await waitFor('the request to be held', () => sim.tenant('acme').stats().inFlight === 1);
    await sim.stop();
    expect(await pending).toBe('closed');
  });
});
