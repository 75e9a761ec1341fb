import { notFound } from './api-error.js';
import { ChangeFeed } from './change-feed.js';
import { makeEvent, type EventInput } from './event-generator.js';
import { EventLog } from './event-log.js';
import { collaboratorsFor, editedVersion, makeFile, versionFields, type FileContext } from './file-generator.js';
import { newId } from './directory.js';
import { domainOf, generateTenant } from './generator.js';
import { SHARING_LEVELS } from '../../platform/vocabulary/sharing.js';
import type { Membership, SimEvent, SimFile, SimGrant, SimGroup, SimUser, Truth } from './model.js';
import { Rng } from './prng.js';
import type { ResolvedTenantSpec } from './spec.js';

/** A change announced to the tenant's webhook. */
export interface Notice {
  readonly kind: 'file.changed' | 'file.deleted' | 'user.changed' | 'grant.changed';
  readonly externalId: string;
}

/** What `POST /admin/tenants/:id/delete` can delete. */
export type DeletableKind = 'user' | 'group' | 'file' | 'grant';

/**
 * One tenant's data and the changes to it. Every change to a file goes to the change feed and to
 * `onNotice` (the webhook); runtime randomness comes from one seeded stream, one fork per change.
 */
export class TenantState {
  readonly domain: string;
  readonly name: string;
  readonly users: SimUser[];
  readonly groups: SimGroup[];
  memberships: Membership[];
  readonly files: SimFile[];
  readonly grants: SimGrant[];
  readonly events = new EventLog();
  readonly changes: ChangeFeed;
  private readonly ids: Set<string>;
  private readonly paths: Set<string>;
  private readonly runtime: Rng;
  private serial = 0;

  constructor(
    readonly spec: ResolvedTenantSpec,
    now: number,
    private readonly onNotice: (notice: Notice) => void,
  ) {
    this.domain = domainOf(spec);
    this.name = spec.name ?? `${spec.id[0]!.toUpperCase()}${spec.id.slice(1)}`;
    const generated = generateTenant(spec, now);
    ({ users: this.users, groups: this.groups, memberships: this.memberships, files: this.files, grants: this.grants } = generated);
    this.ids = generated.ids;
    this.paths = generated.paths;
    for (const event of generated.events) this.events.append(event);
    this.changes = new ChangeFeed(spec.changeRetentionMs);
    this.runtime = new Rng(spec.seed).fork('runtime');
  }

  /** A fresh stream for one runtime change. */
  nextRng(): Rng {
    return this.runtime.fork(this.serial++);
  }

  user(id: string): SimUser {
    const user = this.users.find((u) => u.id === id && !u.deleted);
    if (!user) throw notFound('user', id);
    return user;
  }

  group(id: string): SimGroup {
    const group = this.groups.find((g) => g.id === id && !g.deleted);
    if (!group) throw notFound('group', id);
    return group;
  }

  file(id: string): SimFile {
    const file = this.files.find((f) => f.id === id && !f.deleted);
    if (!file) throw notFound('file', id);
    return file;
  }

  grant(id: string): SimGrant {
    const grant = this.grants.find((g) => g.id === id && !g.deleted);
    if (!grant) throw notFound('grant', id);
    return grant;
  }

  /** Records an audit event that occurs now (its visibility lag drawn from its own stream). */
  recordEvent(input: EventInput): SimEvent {
    const event = makeEvent(this.nextRng(), this.ids, this.spec.auditLagMs, input);
    this.events.append(event);
    return event;
  }

  fileContext(now: number): FileContext {
    return { users: this.users.filter((u) => !u.deleted), domain: this.domain, now, ids: this.ids, paths: this.paths };
  }

  /** Puts a file change in the feed and announces it. */
  fileChanged(file: SimFile, now: number): void {
    this.changes.record(file.id, now);
    this.onNotice({ kind: file.deleted ? 'file.deleted' : 'file.changed', externalId: file.id });
  }

  userChanged(user: SimUser): void {
    this.onNotice({ kind: 'user.changed', externalId: user.id });
  }

  /**
   * A user who holds no live grant of the app (the first such active user) authorizes it: a new grant
   * with the app's name, publisher and scopes, announced like a changed grant. Throws a 404 ApiError
   * when no grant ever named the app, or every active user holds one.
   */
  authorizeApp(clientId: string, now: number): SimGrant {
    const model = this.grants.find((g) => g.clientId === clientId);
    if (!model) throw notFound('app', clientId);
    const holders = new Set(this.grants.filter((g) => g.clientId === clientId && !g.deleted && !g.revoked).map((g) => g.userId));
    const user = this.users.find((u) => !u.deleted && u.status === 'ACTIVE' && !holders.has(u.id));
    if (!user) throw notFound('user without a grant of', clientId);
    const grant: SimGrant = {
      ...structuredClone(model),
      id: newId(this.nextRng(), 'gnt', this.ids),
      userId: user.id,
      grantedAt: new Date(now).toISOString(),
      lastUsedAt: null,
      revoked: false,
      revokedAt: null,
      deleted: false,
    };
    this.grants.push(grant);
    this.grantChanged(grant);
    return grant;
  }

  grantChanged(grant: SimGrant): void {
    this.onNotice({ kind: 'grant.changed', externalId: grant.id });
  }

  /** A new content version of the file, and with `reshare` a new sharing level. */
  editFile(file: SimFile, now: number, reshare: boolean): void {
    const rng = this.nextRng();
    file.revision++;
    Object.assign(file, versionFields(editedVersion(rng, file, this.fileContext(now))));
    if (reshare) this.reshare(rng, file);
    file.modifiedAt = new Date(now).toISOString();
    this.fileChanged(file, now);
  }

  /** Moves the file to another sharing level, with collaborators to match. */
  shareFile(file: SimFile, now: number): void {
    this.reshare(this.nextRng(), file);
    file.modifiedAt = new Date(now).toISOString();
    this.fileChanged(file, now);
  }

  private reshare(rng: Rng, file: SimFile): void {
    file.sharing = rng.pick(SHARING_LEVELS.filter((s) => s !== file.sharing));
    const owner = this.users.find((u) => u.id === file.ownerId) ?? this.users[0]!;
    file.collaborators = collaboratorsFor(
      rng,
      file.sharing,
      this.users.filter((u) => !u.deleted),
      owner,
    );
  }

  /** A new file, created now. */
  uploadFile(now: number): SimFile {
    const file = makeFile(this.nextRng(), this.fileContext(now), now);
    this.files.push(file);
    this.fileChanged(file, now);
    return file;
  }

  /** Deletes for good: lists no longer show it, the truth keeps it with `deleted: true`. */
  delete(kind: DeletableKind, id: string, now: number): void {
    switch (kind) {
      case 'user': {
        const user = this.user(id);
        user.deleted = true;
        this.memberships = this.memberships.filter((m) => m.userId !== id);
        for (const grant of this.grants.filter((g) => g.userId === id && !g.deleted)) {
          grant.deleted = true;
          this.grantChanged(grant);
        }
        this.userChanged(user);
        return;
      }
      case 'group':
        this.group(id).deleted = true;
        this.memberships = this.memberships.filter((m) => m.groupId !== id);
        return;
      case 'file': {
        const file = this.file(id);
        file.deleted = true;
        this.fileChanged(file, now);
        return;
      }
      case 'grant': {
        const grant = this.grant(id);
        grant.deleted = true;
        this.grantChanged(grant);
        return;
      }
      default: {
        const never: never = kind;
        throw new Error(`unknown kind ${String(never)}`);
      }
    }
  }

  /** A deep copy of everything, deleted things included. */
  truth(): Truth {
    return structuredClone({
      tenantId: this.spec.id,
      domain: this.domain,
      users: this.users,
      groups: this.groups,
      memberships: this.memberships,
      events: [...this.events.all()],
      files: this.files,
      grants: this.grants,
    });
  }
}
