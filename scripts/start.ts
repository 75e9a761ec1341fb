// `npm start`: the whole of Tenantwatch in one command on embedded defaults.
import 'reflect-metadata';
import { ROLES, signToken } from '../platform/auth.js';
import { ConfigError, loadConfig } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import { startStack, type Stack } from './stack.js';

const began = performance.now();
let stack: Stack | undefined;
let stopping = false;

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping Tenantwatch');
  await stack?.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const config = loadConfig();
  stack = await startStack({ config, port: config.PORT, scheduler: true, demo: config.DEMO });
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  const tokens = await Promise.all(ROLES.map(async (role) => [role, await signToken(config, { role })] as const));
  const url = stack.gateway.url.replace('127.0.0.1', 'localhost');
  const admin = tokens.find(([role]) => role === 'admin')![1];
  const lines = [
    '',
    `Tenantwatch is ready in ${seconds} s at ${url}`,
    `  data: ${config.dataDir}${config.DATABASE_URL ? ' (database: DATABASE_URL)' : ' (embedded PostgreSQL)'}; jobs: ${config.MONGODB_URL ? 'MongoDB' : 'PostgreSQL'}`,
    ...(stack.demo
      ? [
          `  demo: simulated provider at ${stack.demo.simulator.url} with ${Object.keys(stack.demo.instances).length} instances connecting (DEMO=off disables)`,
        ]
      : []),
    '',
    'Tokens (valid 12 h; `npm run token -- --role <role>` makes more):',
    ...tokens.map(([role, token]) => `  ${role.padEnd(9)} ${token}`),
    '',
    'Try it:',
    `  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${admin}' \\`,
    `    --data '{"query":"{ appInstances { id name status } }"}'`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    logger.fatal({ err: error }, `Tenantwatch did not start: ${(error as Error)?.message ?? String(error)}`);
  }
  await stack?.stop();
  process.exit(1);
}
