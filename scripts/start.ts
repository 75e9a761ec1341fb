// `npm start`: the whole of Tenantwatch in one command on embedded defaults.
import 'reflect-metadata';
import { requireProductionSecrets, ROLES, signToken } from '../platform/auth.js';
import { ConfigError, loadConfig, type Config } from '../platform/config.js';
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
  // Checked before anything starts: in production nothing is generated, opened or listened on without them.
  requireProductionSecrets(config, { tokens: true, credentials: true });
  if (config.DEMO && !config.CONNECTOR_ALLOW_PRIVATE) {
    // The demo's simulated provider listens on 127.0.0.1, which the outbound policy refuses.
    throw new ConfigError(
      'Invalid configuration:\n  DEMO: the demo connects to a provider emulator on 127.0.0.1; set CONNECTOR_ALLOW_PRIVATE=true with DEMO in production',
    );
  }
  stack = await startStack({ config, port: config.PORT, scheduler: true, demo: config.DEMO });
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  const url = stack.gateway.url.replace('127.0.0.1', 'localhost');
  const origin = new URL(url).origin;
  const lines = [
    '',
    config.CONSOLE
      ? `Console: ${origin}/ (open it in a browser; GraphiQL at ${url})`
      : 'Console: off (CONSOLE=on serves the browser console and GraphiQL)',
    `Tenantwatch is ready in ${seconds} s at ${url}`,
    `  data: ${config.dataDir}${config.DATABASE_URL ? ' (database: DATABASE_URL)' : ' (embedded PostgreSQL)'}; jobs: ${config.MONGODB_URL ? 'MongoDB' : 'PostgreSQL'}`,
    ...(stack.demo
      ? [
          `  demo: ${stack.demo.description} (DEMO=off disables; DEMO=m365, google or salesforce shows a Microsoft 365 tenant, a Google Workspace customer or two Salesforce orgs, DEMO=all every demo)`,
        ]
      : []),
    '',
    ...(config.NODE_ENV === 'production' ? howToSignTokens(config, url) : await developmentTokens(config, url)),
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

/** Outside production: a 12-hour token per role, and a curl line that works as is. */
async function developmentTokens(config: Config, url: string): Promise<string[]> {
  const tokens = await Promise.all(ROLES.map(async (role) => [role, await signToken(config, { role })] as const));
  const admin = tokens.find(([role]) => role === 'admin')![1];
  return [
    'Tokens (valid 12 h; `npm run token -- --role <role>` makes more):',
    ...tokens.map(([role, token]) => `  ${role.padEnd(9)} ${token}`),
    '',
    'Try it:',
    `  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${admin}' \\`,
    `    --data '{"query":"{ appInstances { id name status } }"}'`,
  ];
}

/** In production no token is printed (the output ends up in logs): how to get one instead. */
function howToSignTokens(config: Config, url: string): string[] {
  const get = config.AUTH_JWT_SECRET
    ? [
        'Tokens: none printed in production. Sign one with the configured secret, e.g. for an hour:',
        '  TOKEN=$(NODE_ENV=production AUTH_JWT_SECRET=<the secret> npm run -s token -- --role viewer --expires 1h)',
      ]
    : ['Tokens: none printed in production; they come from the issuer of AUTH_JWKS_URL (with an "exp" and a "roles" claim).'];
  return [
    ...get,
    `  curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
    `    --data '{"query":"{ appInstances { id name status } }"}'`,
  ];
}
