import type { admin_directory_v1 } from '@googleapis/admin';
import type { Page, PageToken, ProviderGrant, ProviderGroup, ProviderUser } from '../contract.js';
import type { GoogleConfig } from './config.js';
import { isNotFound, type GoogleApis } from './google-http.js';
import { splitGrantId, toGrant, toUser } from './mapping.js';
import { decodeToken, encodeToken } from './page-token.js';

/** users.list's largest page (https://developers.google.com/admin-sdk/directory/reference/rest/v1/users/list). */
const USERS_PAGE = 500;
/** Users whose tokens one page of grants reads (one tokens.list each). */
const GRANT_USERS_PER_PAGE = 25;

interface GrantToken {
  /** users.list's page token of the page being read (null: the first). */
  readonly u: string | null;
  /** How many of that page's users were read. */
  readonly i: number;
}

/**
 * The Directory API as the admin subject (https://developers.google.com/admin-sdk/directory/reference/rest):
 * users with their administrator roles, groups and members, and the OAuth tokens users granted apps.
 */
export class GoogleDirectory {
  private roles?: Promise<Map<string, string[]>>;
  private readonly userPages = new Map<string, Promise<admin_directory_v1.Schema$Users>>();
  private emails?: Promise<Map<string, string>>;

  constructor(
    private readonly apis: GoogleApis,
    private readonly config: GoogleConfig,
  ) {}

  private get customer(): string {
    return this.config.customerId;
  }

  /** Role names per user id, from the customer's roles and role assignments, once per connector. */
  private roleNames(): Promise<Map<string, string[]>> {
    this.roles ??= (async () => {
      const names = new Map<string, string>();
      for (let page: string | undefined; ;) {
        const result = await this.apis.call(
          this.apis.directory().roles.list({ customer: this.customer, maxResults: 100, pageToken: page }),
        );
        for (const role of result.items ?? []) names.set(role.roleId!, role.roleDescription || role.roleName || role.roleId!);
        if (!(page = result.nextPageToken ?? undefined)) break;
      }
      const byUser = new Map<string, string[]>();
      for (let page: string | undefined; ;) {
        const result = await this.apis.call(
          this.apis.directory().roleAssignments.list({ customer: this.customer, maxResults: 200, pageToken: page }),
        );
        for (const a of result.items ?? []) {
          if (!a.assignedTo || !a.roleId) continue;
          byUser.set(a.assignedTo, [...(byUser.get(a.assignedTo) ?? []), names.get(a.roleId) ?? a.roleId]);
        }
        if (!(page = result.nextPageToken ?? undefined)) break;
      }
      return byUser;
    })();
    this.roles.catch(() => (this.roles = undefined));
    return this.roles;
  }

  private usersPage(page: string | null): Promise<admin_directory_v1.Schema$Users> {
    const key = page ?? '';
    let found = this.userPages.get(key);
    if (!found) {
      found = this.apis.call(
        this.apis
          .directory()
          .users.list({ customer: this.customer, maxResults: this.config.pageSize ?? USERS_PAGE, pageToken: page ?? undefined }),
      );
      found.catch(() => this.userPages.delete(key));
      this.userPages.set(key, found);
    }
    return found;
  }

  async listUsers(page: PageToken | null): Promise<Page<ProviderUser>> {
    const roles = await this.roleNames();
    const result = await this.usersPage(page);
    return { items: (result.users ?? []).map((u) => toUser(u, roles.get(u.id!) ?? [])), next: result.nextPageToken ?? null };
  }

  /** Every user, page by page (the files scan's and the grants scan's walk), kept for the connector's life. */
  async *allUsers(): AsyncGenerator<admin_directory_v1.Schema$User> {
    for (let page: string | null = null; ;) {
      const result = await this.usersPage(page);
      yield* result.users ?? [];
      if (!(page = result.nextPageToken ?? null)) return;
    }
  }

  /** User ids by primary email (lower case), for owners Drive names by email. */
  userIdsByEmail(): Promise<Map<string, string>> {
    this.emails ??= (async () => {
      const map = new Map<string, string>();
      for await (const user of this.allUsers()) if (user.primaryEmail) map.set(user.primaryEmail.toLowerCase(), user.id!);
      return map;
    })();
    this.emails.catch(() => (this.emails = undefined));
    return this.emails;
  }

  async getUser(externalId: string): Promise<ProviderUser | null> {
    try {
      const user = await this.apis.call(this.apis.directory().users.get({ userKey: externalId }));
      return toUser(user, (await this.roleNames()).get(user.id!) ?? []);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async listGroups(page: PageToken | null): Promise<Page<ProviderGroup>> {
    const result = await this.apis.call(
      this.apis.directory().groups.list({ customer: this.customer, maxResults: this.config.pageSize ?? 200, pageToken: page ?? undefined }),
    );
    return {
      items: (result.groups ?? []).map((g) => ({ externalId: g.id!, name: g.name || g.email || g.id! })),
      next: result.nextPageToken ?? null,
    };
  }

  async listGroupMembers(groupExternalId: string, page: PageToken | null): Promise<Page<string>> {
    const result = await this.apis.call(
      this.apis
        .directory()
        .members.list({ groupKey: groupExternalId, maxResults: this.config.pageSize ?? 200, pageToken: page ?? undefined }),
    );
    // Groups also hold groups and the whole customer: only users are accounts.
    return { items: (result.members ?? []).filter((m) => m.type === 'USER' && m.id).map((m) => m.id!), next: result.nextPageToken ?? null };
  }

  /** The tokens of each user (tokens.list per user: the API has no customer-wide list), a few users per page. */
  async listGrants(page: PageToken | null): Promise<Page<ProviderGrant>> {
    const token = decodeToken<GrantToken>(page, (t) => (t.u === null || typeof t.u === 'string') && typeof t.i === 'number') ?? {
      u: null,
      i: 0,
    };
    const users = await this.usersPage(token.u);
    const batch = (users.users ?? []).slice(token.i, token.i + GRANT_USERS_PER_PAGE);
    const items: ProviderGrant[] = [];
    for (const user of batch) {
      try {
        const tokens = await this.apis.call(this.apis.directory().tokens.list({ userKey: user.id! }));
        items.push(...(tokens.items ?? []).filter((t) => t.clientId).map((t) => toGrant(user.id!, t)));
      } catch (error) {
        // Deleted since the user page was read.
        if (!isNotFound(error)) throw error;
      }
    }
    const read = token.i + batch.length;
    const next =
      read < (users.users ?? []).length ? { u: token.u, i: read } : users.nextPageToken ? { u: users.nextPageToken, i: 0 } : null;
    return { items, next: next ? encodeToken(next) : null };
  }

  async getGrant(externalId: string): Promise<ProviderGrant | null> {
    const { userId, clientId } = splitGrantId(externalId);
    try {
      return toGrant(userId, await this.apis.call(this.apis.directory().tokens.get({ userKey: userId, clientId })));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  // ---------------------------------------------------------------- governance

  private async update(externalId: string, body: admin_directory_v1.Schema$User): Promise<ProviderUser> {
    const user = await this.apis.call(this.apis.directory().users.update({ userKey: externalId, requestBody: body }));
    return toUser(user, (await this.roleNames()).get(user.id!) ?? []);
  }

  /** users.update `suspended: true` (a suspended user's sessions end with it). */
  suspendUser(externalId: string): Promise<ProviderUser> {
    return this.update(externalId, { suspended: true });
  }

  unsuspendUser(externalId: string): Promise<ProviderUser> {
    return this.update(externalId, { suspended: false });
  }

  /** users.update `changePasswordAtNextLogin`, then users.signOut ends the user's web and device sessions. */
  async requirePasswordReset(externalId: string): Promise<ProviderUser> {
    const user = await this.update(externalId, { changePasswordAtNextLogin: true });
    await this.apis.call(this.apis.directory().users.signOut({ userKey: externalId }));
    return user;
  }

  async revokeGrant(externalId: string): Promise<ProviderGrant | null> {
    const { userId, clientId } = splitGrantId(externalId);
    try {
      await this.apis.call(this.apis.directory().tokens.delete({ userKey: userId, clientId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return null;
  }
}
