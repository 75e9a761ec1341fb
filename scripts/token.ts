// `npm run token -- --role admin [--subject alice] [--expires 12h] [--instances <id>,<id>]`: prints a
// signed token; `--instances` limits it to those app instances (its `instances` claim). Every token
// expires (the verifiers refuse one without `exp`). Outside production it is signed with the development
// secret in DATA_DIR (generated on first use); in production AUTH_JWT_SECRET must be set (exit 1 otherwise).
import { parseArgs } from 'node:util';
import { isRole, MissingSecretsError, ROLES, signToken } from '../platform/auth.js';
import { ConfigError, loadConfig } from '../platform/config.js';
import { isId } from '../platform/ids.js';

try {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'viewer' },
      subject: { type: 'string' },
      expires: { type: 'string', default: '12h' },
      instances: { type: 'string' },
    },
  });
  if (!isRole(values.role)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}; got "${values.role}"`);
  const instances = values.instances?.split(',').map((id) => id.trim());
  const wrong = instances?.find((id) => !isId(id));
  if (wrong !== undefined) throw new ConfigError(`--instances must list app instance ids (UUIDs) separated by commas; got "${wrong}"`);
  const config = loadConfig();
  process.stdout.write(
    `${await signToken(config, { role: values.role, subject: values.subject, expiresIn: values.expires, instances })}\n`,
  );
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(error instanceof MissingSecretsError ? 1 : error instanceof ConfigError || error instanceof TypeError ? 2 : 1);
}
