import { randomBytes } from 'node:crypto';
import { ApiError, notFound } from './errors.js';
import { canonicalId } from './ids.js';
import type { Org } from './runtime.js';
import { OBJECTS_BY_PREFIX, OBJECTS_CI, type FieldDef, type ObjectDef } from './schema.js';
import { wireRecord } from './soql/engine.js';
import type { Row } from './store.js';

/**
 * sObject rows (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm),
 * sObject create (…/dome_sobject_create.htm), blob retrieval (…/dome_sobject_blob_retrieve.htm) and the
 * User password resource (…/dome_sobject_user_password.htm), with the provider-side effects governance
 * relies on, each recorded in the org's governance log.
 */

export interface Reply {
  readonly status: number;
  readonly json?: unknown;
  readonly body?: Buffer;
  readonly contentType?: string;
}

/** What a write needs: the org, the caller, the time, and a function that announces a new ContentVersion. */
export interface WriteContext {
  readonly org: Org;
  readonly userId: string;
  readonly now: number;
  readonly version: string;
  readonly onNewVersion: (version: Row) => void;
}

const PICKLISTS: Record<string, readonly string[]> = {
  'ContentDocumentLink.ShareType': ['V', 'C', 'I'],
  'ContentDocumentLink.Visibility': ['AllUsers', 'InternalUsers', 'SharedUsers'],
};

export function objectDef(name: string): ObjectDef {
  const def = OBJECTS_CI.get(name.toLowerCase());
  if (!def) throw new ApiError(404, 'NOT_FOUND', `The requested resource does not exist`);
  return def;
}

/** The live, visible row `id` of object `def`, or 404. */
export function findRow(org: Org, def: ObjectDef, id: string, now: number): Row {
  const canonical = canonicalId(id);
  if (!canonical || canonical.slice(0, 3) !== def.keyPrefix) throw notFound();
  const row = org.state.table(def.name as never).get(canonical);
  if (!row || (row._visibleAt !== undefined && row._visibleAt > now)) throw notFound();
  if (row.IsDeleted === true) throw new ApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
  return row;
}

export function getRecord(org: Org, def: ObjectDef, id: string, fields: string | null, ctx: { now: number; version: string }): Reply {
  const row = findRow(org, def, id, ctx.now);
  let selected: { lookups: []; leaf: FieldDef; text: string }[] | null = null;
  if (fields) {
    selected = fields.split(',').map((name) => {
      const leaf = def.byName.get(name.trim().toLowerCase());
      if (!leaf) throw new ApiError(400, 'INVALID_FIELD', `No such column '${name.trim()}' on sobject of type ${def.name}`);
      return { lookups: [], leaf, text: leaf.name };
    });
  }
  return { status: 200, json: wireRecord(org.state.store, def, row, selected, ctx.version) };
}

export function getBlob(org: Org, def: ObjectDef, id: string, field: string, now: number): Reply {
  const row = findRow(org, def, id, now);
  const leaf = def.byName.get(field.toLowerCase());
  if (!leaf || leaf.type !== 'base64') throw notFound();
  const value = row[leaf.name];
  return { status: 200, body: Buffer.isBuffer(value) ? value : Buffer.alloc(0), contentType: 'application/octetstream' };
}

/** Checks and converts a JSON body's field values for `def`: unknown fields, read-only ones, types and restricted picklists. */
function fieldValues(def: ObjectDef, body: unknown, mode: 'create' | 'update'): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
  const values: Record<string, unknown> = {};
  const readOnly: string[] = [];
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (name === 'attributes' || (mode === 'update' && name.toLowerCase() === 'id')) continue;
    const field = def.byName.get(name.toLowerCase());
    if (!field) throw new ApiError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${def.name}`);
    if (!(mode === 'create' ? field.createable : field.updateable)) {
      readOnly.push(field.name);
      continue;
    }
    values[field.name] = convert(def, field, value);
  }
  if (readOnly.length)
    throw new ApiError(
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
      readOnly,
    );
  return values;
}

function convert(def: ObjectDef, field: FieldDef, value: unknown): unknown {
  const wrongType = (expected: string) =>
    new ApiError(
      400,
      'JSON_PARSER_ERROR',
      `Cannot deserialize instance of ${expected} from ${JSON.stringify(value)} for field ${field.name}`,
    );
  if (value === null) return null;
  switch (field.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType('boolean');
      return value;
    case 'int':
    case 'double':
      if (typeof value !== 'number') throw wrongType('number');
      return value;
    case 'datetime': {
      const ms = typeof value === 'string' ? Date.parse(value) : NaN;
      if (Number.isNaN(ms)) throw wrongType('dateTime');
      return ms;
    }
    case 'base64':
      if (typeof value !== 'string') throw wrongType('base64');
      return Buffer.from(value, 'base64');
    case 'id':
    case 'reference': {
      const id = typeof value === 'string' ? canonicalId(value) : null;
      if (!id) throw new ApiError(400, 'MALFORMED_ID', `${field.name}: id value of incorrect type: ${String(value)}`, [field.name]);
      return id;
    }
    default: {
      if (typeof value !== 'string') throw wrongType('string');
      const allowed = PICKLISTS[`${def.name}.${field.name}`];
      if (allowed && !allowed.includes(value))
        throw new ApiError(
          400,
          'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
          `${field.name}: bad value for restricted picklist field: ${value}`,
          [field.name],
        );
      return value;
    }
  }
}

const notAllowed = (method: string, allowed: string) =>
  new ApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed}`);

export function updateRecord(ctx: WriteContext, def: ObjectDef, id: string, body: unknown): Reply {
  if (!def.updateable) throw notAllowed('PATCH', 'GET,HEAD');
  const { org, now, userId } = ctx;
  const row = findRow(org, def, id, now);
  const values = fieldValues(def, body, 'update');
  org.state.update(row, values, now, userId);
  const state = org.state;
  if (def.name === 'UserLogin' && 'IsFrozen' in values)
    state.record(values.IsFrozen ? 'user.freeze' : 'user.unfreeze', String(row.UserId), now, row.Id);
  if (def.name === 'User' && 'IsActive' in values) state.record(values.IsActive ? 'user.activate' : 'user.deactivate', row.Id, now);
  if (def.name === 'ContentDocumentLink') state.record('contentDocumentLink.update', String(row.ContentDocumentId), now, row.Id);
  if (def.name === 'ContentDistribution') state.record('contentDistribution.update', String(row.ContentDocumentId), now, row.Id);
  if (def.name === 'ContentDocument') state.record('contentDocument.update', row.Id, now);
  return { status: 204 };
}

export function deleteRecord(ctx: WriteContext, def: ObjectDef, id: string): Reply {
  if (!def.deletable) throw notAllowed('DELETE', def.updateable ? 'GET,PATCH,HEAD' : 'GET,HEAD');
  const { org, now } = ctx;
  const state = org.state;
  const row = findRow(org, def, id, now);
  switch (def.name) {
    case 'ContentDocument': {
      // To the recycle bin with its versions and links; its public links go (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdocument.htm).
      for (const version of state.table('ContentVersion').byRef('ContentDocumentId', row.Id))
        state.update(version, { IsDeleted: true }, now);
      for (const link of state.table('ContentDocumentLink').byRef('ContentDocumentId', row.Id))
        state.update(link, { IsDeleted: true }, now);
      for (const distribution of state.table('ContentDistribution').byRef('ContentDocumentId', row.Id))
        if (distribution.IsDeleted !== true) state.update(distribution, { IsDeleted: true }, now);
      state.update(row, { IsDeleted: true }, now);
      state.record('contentDocument.delete', row.Id, now);
      break;
    }
    case 'ContentDocumentLink':
      state.table('ContentDocumentLink').remove(row);
      state.record('contentDocumentLink.delete', String(row.ContentDocumentId), now, row.Id);
      break;
    case 'ContentDistribution':
      // To the recycle bin (undelete() is a supported call; queryAll still finds it).
      state.delete(row, now);
      state.record('contentDistribution.delete', String(row.ContentDocumentId), now, row.Id);
      break;
    case 'OauthToken':
      state.table('OauthToken').remove(row);
      state.record('oauthToken.delete', row.Id, now);
      break;
    case 'PermissionSetAssignment':
      state.table('PermissionSetAssignment').remove(row);
      state.record('permissionSetAssignment.delete', String(row.AssigneeId), now, row.Id);
      break;
    case 'GroupMember':
      state.table('GroupMember').remove(row);
      state.record('groupMember.delete', String(row.GroupId), now, row.Id);
      break;
    default:
      state.delete(row, now);
  }
  return { status: 204 };
}

function reference(ctx: WriteContext, object: string, id: unknown, field: string): Row {
  const row = typeof id === 'string' ? ctx.org.state.store.find(id) : undefined;
  if (!row || row.IsDeleted === true || OBJECTS_BY_PREFIX.get(row.Id.slice(0, 3))?.name !== object)
    throw new ApiError(400, 'INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [field]);
  return row;
}

function required(values: Record<string, unknown>, names: string[]): void {
  const missing = names.filter((n) => values[n] === undefined || values[n] === null);
  if (missing.length) throw new ApiError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
}

export function createRecord(ctx: WriteContext, def: ObjectDef, body: unknown): Reply {
  if (!def.createable) throw notAllowed('POST', 'GET,HEAD');
  const { org, now, userId } = ctx;
  const state = org.state;
  const values = fieldValues(def, body, 'create');
  let row: Row;
  switch (def.name) {
    case 'ContentVersion': {
      required(values, ['VersionData', 'PathOnClient']);
      const content = values.VersionData as Buffer;
      const fields = {
        PathOnClient: String(values.PathOnClient),
        ReasonForChange: (values.ReasonForChange as string | undefined) ?? null,
        ...(values.Title ? { Title: String(values.Title) } : {}),
      };
      if (values.ContentDocumentId) {
        // A version of an existing document becomes its latest (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_insert_update_blob.htm).
        const document = reference(ctx, 'ContentDocument', values.ContentDocumentId, 'ContentDocumentId');
        row = state.addVersion(document, content, fields, now, userId);
        state.record('contentVersion.create', document.Id, now, row.Id);
      } else {
        const path = fields.PathOnClient;
        const extension = path.includes('.') ? path.slice(path.lastIndexOf('.') + 1).toLowerCase() : '';
        const document = state.insert(
          'ContentDocument',
          {
            Title: fields.Title ?? (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : path),
            Description: null,
            FileType: 'UNKNOWN',
            FileExtension: extension,
            ContentSize: 0,
            OwnerId: userId,
            LatestPublishedVersionId: null,
            ParentId: null,
            PublishStatus: 'R',
            IsArchived: false,
            ArchivedDate: null,
            SharingOption: 'A',
            SharingPrivacy: 'N',
            ContentModifiedDate: now,
          },
          now,
          userId,
        );
        row = state.addVersion(document, content, fields, now, userId);
        state.insert(
          'ContentDocumentLink',
          { ContentDocumentId: document.Id, LinkedEntityId: userId, ShareType: 'I', Visibility: 'AllUsers', IsDeleted: false },
          now,
        );
        if (values.FirstPublishLocationId && values.FirstPublishLocationId !== userId)
          state.insert(
            'ContentDocumentLink',
            {
              ContentDocumentId: document.Id,
              LinkedEntityId: values.FirstPublishLocationId,
              ShareType: 'V',
              Visibility: 'AllUsers',
              IsDeleted: false,
            },
            now,
          );
        state.record('contentVersion.create', document.Id, now, row.Id);
      }
      ctx.onNewVersion(row);
      break;
    }
    case 'ContentDocumentLink': {
      required(values, ['ContentDocumentId', 'LinkedEntityId', 'ShareType']);
      const document = reference(ctx, 'ContentDocument', values.ContentDocumentId, 'ContentDocumentId');
      row = state.insert('ContentDocumentLink', { Visibility: 'AllUsers', IsDeleted: false, ...values }, now);
      state.record('contentDocumentLink.create', document.Id, now, row.Id);
      break;
    }
    case 'ContentDistribution': {
      required(values, ['ContentVersionId']);
      const version = reference(ctx, 'ContentVersion', values.ContentVersionId, 'ContentVersionId');
      const token = randomBytes(12).toString('hex');
      const org15 = org.organizationId.slice(0, 15);
      row = state.insert(
        'ContentDistribution',
        {
          Name: String(values.Name ?? version.Title),
          ContentDocumentId: version.ContentDocumentId,
          OwnerId: userId,
          DistributionPublicUrl: `${org.instanceUrl}/sfc/p/${org15}/a/${token}`,
          ContentDownloadUrl: `${org.instanceUrl}/sfc/dist/version/download/?oid=${org15}&d=${token}`,
          PreferencesAllowViewInBrowser: true,
          PreferencesAllowOriginalDownload: true,
          PreferencesAllowPDFDownload: false,
          PreferencesExpires: false,
          PreferencesPasswordRequired: false,
          ExpiryDate: null,
          ViewCount: 0,
          FirstViewDate: null,
          LastViewDate: null,
          ...values,
        },
        now,
        userId,
      );
      state.record('contentDistribution.create', String(version.ContentDocumentId), now, row.Id);
      break;
    }
    case 'PermissionSetAssignment':
      required(values, ['AssigneeId', 'PermissionSetId']);
      reference(ctx, 'User', values.AssigneeId, 'AssigneeId');
      reference(ctx, 'PermissionSet', values.PermissionSetId, 'PermissionSetId');
      row = state.insert('PermissionSetAssignment', { IsActive: true, ...values }, now);
      state.record('permissionSetAssignment.create', String(values.AssigneeId), now, row.Id);
      break;
    default:
      required(
        values,
        def.fields.filter((f) => f.createable && f.type === 'reference').map((f) => f.name),
      );
      row = state.insert(def.name as never, values, now, userId);
  }
  return { status: 201, json: { id: row.Id, success: true, errors: [] } };
}

/** The sObject User Password resource: GET whether it expired, POST sets it (204), DELETE resets it (answers the new one). */
export function userPassword(ctx: WriteContext, method: string, id: string, body: unknown): Reply {
  const { org, now } = ctx;
  const user = findRow(org, objectDef('User'), id, now);
  if (method === 'GET') return { status: 200, json: { isExpired: org.state.expiredPasswords.has(user.Id) } };
  if (method === 'DELETE') {
    const password = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x') + '7a';
    org.state.expiredPasswords.add(user.Id);
    org.state.record('user.passwordReset', user.Id, now);
    return { status: 200, json: { NewPassword: password } };
  }
  if (method === 'POST') {
    const password = body && typeof body === 'object' ? (body as Record<string, unknown>).NewPassword : undefined;
    if (typeof password !== 'string' || password.length < 8 || !/[a-zA-Z]/.test(password) || !/\d/.test(password))
      throw new ApiError(
        400,
        'INVALID_NEW_PASSWORD',
        'Your password must be at least 8 characters long and have a mix of letters and numbers.',
      );
    org.state.expiredPasswords.delete(user.Id);
    org.state.update(user, { LastPasswordChangeDate: now }, now, ctx.userId);
    org.state.record('user.passwordSet', user.Id, now);
    return { status: 204 };
  }
  throw notAllowed(method, 'GET,POST,DELETE,HEAD');
}
