import { z } from 'zod';
import { DEMO_TENANTS } from './demo-tenants.js';
import { startSimulator } from './server.js';
import { parseSpec, TenantSpecSchema } from './spec.js';

/**
 * `npm run simulator`: hosts the simulated provider alone. SIMULATOR_PORT (default 4900),
 * SIMULATOR_HOST (default 127.0.0.1), SIMULATOR_TENANTS (a JSON array of tenant specs; default two
 * demo tenants). Prints each tenant's id, token and endpoint; stops on SIGINT/SIGTERM.
 */

const Env = z.object({
  SIMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(4900),
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  SIMULATOR_TENANTS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON array of tenant specs' });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.unknown()).min(1, 'must hold at least one tenant'))
    .optional(),
});

async function main(): Promise<void> {
  const present = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  const env = parseSpec(Env, present, 'env');
  const simulator = await startSimulator({
    port: env.SIMULATOR_PORT,
    host: env.SIMULATOR_HOST,
    tenants: (env.SIMULATOR_TENANTS ?? DEMO_TENANTS).map((spec, i) => parseSpec(TenantSpecSchema, spec, `SIMULATOR_TENANTS[${i}]`)),
  });
  process.stdout.write(`Simulated provider on ${simulator.url} (admin API: ${simulator.url}/admin/tenants)\n`);
  for (const tenant of simulator.tenants()) {
    process.stdout.write(`  tenant ${tenant.id}  token ${tenant.token}  endpoint ${simulator.url}\n`);
  }
  const stop = () => {
    simulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
