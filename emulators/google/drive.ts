import type { PageTokens, Route } from './routes.js';

export function driveRoutes(_pages: PageTokens, _options: { allowHttpWebhooks: boolean }): Route[] {
  return [];
}
