import type { Customer } from './customer.js';
import { GoogleError } from './errors.js';
import type { Reply } from './routes.js';
import { GoogleSpecError } from './spec.js';

/**
 * The control API over HTTP (loopback only), at `/admin/customers/<customerId>/<action>`: the same
 * knobs as the in-process control object, for the demo and for processes that do not hold the emulator.
 */
export function adminApi(method: string, pathname: string, input: string, customerById: (id: string) => Customer): Reply {
  const m = /^\/admin\/customers\/([^/]+)(\/[a-z-]+)?$/.exec(pathname);
  if (!m) throw new GoogleError(404, 'notFound', `no admin route ${pathname}`);
  const customer = customerById(m[1]!);
  let body: Record<string, unknown> = {};
  try {
    body = input.trim() ? (JSON.parse(input) as Record<string, unknown>) : {};
  } catch {
    throw new GoogleError(400, 'badRequest', 'the admin API takes a JSON body');
  }
  const json = (value: unknown): Reply => ({ status: 200, json: value });
  const count = (name: string, fallback: number) => {
    const value = body[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new GoogleError(400, 'badRequest', `${name}: a number of at least 0`);
    return value;
  };
  switch (`${method} ${m[2] ?? ''}`) {
    case 'GET /truth':
      return json(customer.truth());
    case 'GET /stats':
      return json(customer.stats());
    case 'GET /channels':
      return json({ channels: customer.channels() });
    case 'PATCH ':
      try {
        customer.update(body as never);
      } catch (error) {
        if (error instanceof GoogleSpecError) throw new GoogleError(400, 'badRequest', error.message);
        throw error;
      }
      return json({ updated: true });
    case 'POST /expire-tokens':
      return json({ generation: customer.expireTokens() });
    case 'POST /refuse-tokens':
      customer.refuseTokens(body.refuse !== false);
      return json({ refusing: body.refuse !== false });
    case 'POST /late-events':
      return json({ ids: customer.lateEvents(count('count', 10), count('lateMs', 60_000)) });
    case 'POST /past-events':
      return json({ ids: customer.pastEvents(count('count', 10), count('agoMs', 3 * 3_600_000)) });
    case 'POST /remove':
      customer.remove(body.kind as never, String(body.id));
      return json({ removed: true });
    case 'POST /change-file':
      customer.changeFile(String(body.id));
      return json({ changed: true });
    case 'POST /drop-channels':
      return json({ dropped: customer.dropChannels() });
    case 'POST /expire-channels':
      return json({ expired: customer.expireChannels() });
    default:
      throw new GoogleError(404, 'notFound', `no admin route ${method} ${pathname}`);
  }
}
