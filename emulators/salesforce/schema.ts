import { KEY_PREFIXES, type KeyPrefixed } from './ids.js';

/** Field types as the Object Reference names them (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/field_types.htm). */
export type FieldType =
  'id' | 'reference' | 'string' | 'picklist' | 'email' | 'url' | 'boolean' | 'datetime' | 'date' | 'int' | 'double' | 'base64';

export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  /** A lookup's relationship name (`Profile` for `ProfileId`) and the objects it may point to. */
  readonly relationshipName?: string;
  readonly referenceTo?: readonly string[];
  readonly updateable?: boolean;
  readonly createable?: boolean;
  readonly nillable?: boolean;
}

export interface ObjectDef {
  readonly name: string;
  readonly keyPrefix: string;
  readonly fields: readonly FieldDef[];
  readonly createable: boolean;
  readonly deletable: boolean;
  readonly updateable: boolean;
  /** Whether deleted records go to the recycle bin (visible to queryAll with IsDeleted = true). */
  readonly recycleBin: boolean;
  /** Whether getDeleted() and getUpdated() are among the object's supported calls (describe's `replicateable`). */
  readonly replicateable: boolean;
  /** Lower-cased field name → field; lower-cased relationship name → its lookup field. */
  readonly byName: ReadonlyMap<string, FieldDef>;
  readonly byRelationship: ReadonlyMap<string, FieldDef>;
}

const f = (name: string, type: FieldType, more: Omit<FieldDef, 'name' | 'type'> = {}): FieldDef => ({ name, type, ...more });
const ref = (name: string, to: string | string[], relationshipName?: string, more: Omit<FieldDef, 'name' | 'type'> = {}): FieldDef =>
  f(name, 'reference', {
    referenceTo: Array.isArray(to) ? to : [to],
    ...(relationshipName ? { relationshipName } : {}),
    nillable: true,
    ...more,
  });

/** The Id, audit and modstamp fields most objects carry (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/system_fields.htm). */
const system = (recycleBin: boolean): FieldDef[] => [
  f('Id', 'id'),
  f('CreatedDate', 'datetime'),
  ref('CreatedById', 'User', 'CreatedBy'),
  f('LastModifiedDate', 'datetime'),
  ref('LastModifiedById', 'User', 'LastModifiedBy'),
  f('SystemModstamp', 'datetime'),
  ...(recycleBin ? [f('IsDeleted', 'boolean')] : []),
];

/** Permissions* fields shared by Profile and PermissionSet (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_permissionset.htm). */
export const PERMISSION_FIELDS = [
  'PermissionsModifyAllData',
  'PermissionsViewAllData',
  'PermissionsCustomizeApplication',
  'PermissionsManageUsers',
  'PermissionsApiEnabled',
  'PermissionsViewSetup',
  'PermissionsAuthorApex',
  'PermissionsExportReport',
  'PermissionsViewEventLogFiles',
  'PermissionsQueryAllFiles',
] as const;
const permissions = () => PERMISSION_FIELDS.map((name) => f(name, 'boolean'));

interface Shape {
  fields: FieldDef[];
  createable?: boolean;
  deletable?: boolean;
  updateable?: boolean;
  recycleBin?: boolean;
  /** Defaults to `recycleBin`. */
  replicateable?: boolean;
}

/** Each object's fields, from its Object Reference page (cited per object in the README). */
const SHAPES: Record<KeyPrefixed, Shape | null> = {
  Organization: {
    fields: [
      ...system(false),
      f('Name', 'string'),
      f('OrganizationType', 'string'),
      f('InstanceName', 'string'),
      f('IsSandbox', 'boolean'),
    ],
  },
  User: {
    updateable: true,
    fields: [
      ...system(false),
      f('Username', 'string'),
      f('Email', 'email'),
      f('FirstName', 'string', { nillable: true }),
      f('LastName', 'string'),
      f('Name', 'string'),
      f('Alias', 'string'),
      f('IsActive', 'boolean', { updateable: true }),
      ref('ProfileId', 'Profile', 'Profile'),
      ref('UserRoleId', 'UserRole', 'UserRole'),
      f('UserType', 'picklist'),
      f('LastLoginDate', 'datetime', { nillable: true }),
      f('LastPasswordChangeDate', 'datetime', { nillable: true }),
      f('TimeZoneSidKey', 'picklist'),
    ],
  },
  UserLogin: {
    updateable: true,
    fields: [
      f('Id', 'id'),
      ref('UserId', 'User'),
      f('IsFrozen', 'boolean', { updateable: true }),
      f('IsPasswordLocked', 'boolean', { updateable: true }),
      f('LastModifiedDate', 'datetime'),
      ref('LastModifiedById', 'User', 'LastModifiedBy'),
    ],
  },
  Profile: {
    fields: [
      ...system(false),
      f('Name', 'string'),
      f('Description', 'string', { nillable: true }),
      f('UserType', 'picklist'),
      ...permissions(),
    ],
  },
  UserRole: {
    fields: [...system(false), f('Name', 'string'), f('DeveloperName', 'string'), ref('ParentRoleId', 'UserRole')],
  },
  PermissionSet: {
    fields: [
      ...system(false),
      f('Name', 'string'),
      f('Label', 'string'),
      f('IsOwnedByProfile', 'boolean'),
      ref('ProfileId', 'Profile', 'Profile'),
      f('Type', 'picklist', { nillable: true }),
      ...permissions(),
    ],
  },
  PermissionSetAssignment: {
    createable: true,
    deletable: true,
    fields: [
      f('Id', 'id'),
      ref('AssigneeId', 'User', 'Assignee', { createable: true }),
      ref('PermissionSetId', 'PermissionSet', 'PermissionSet', { createable: true }),
      f('IsActive', 'boolean'),
      f('SystemModstamp', 'datetime'),
    ],
  },
  Group: {
    fields: [
      ...system(false),
      f('Name', 'string'),
      f('DeveloperName', 'string'),
      f('Type', 'picklist'),
      f('Email', 'email', { nillable: true }),
      ref('OwnerId', ['User', 'Organization'], 'Owner'),
    ],
  },
  GroupMember: {
    createable: true,
    deletable: true,
    fields: [
      f('Id', 'id'),
      ref('GroupId', 'Group', 'Group', { createable: true }),
      ref('UserOrGroupId', ['User', 'Group'], undefined, { createable: true }),
      f('SystemModstamp', 'datetime'),
    ],
  },
  LoginGeo: {
    fields: [
      ...system(false),
      f('City', 'string', { nillable: true }),
      f('Country', 'string', { nillable: true }),
      f('CountryIso', 'string', { nillable: true }),
      f('Subdivision', 'string', { nillable: true }),
      f('Latitude', 'double', { nillable: true }),
      f('Longitude', 'double', { nillable: true }),
      f('LoginTime', 'datetime'),
    ],
  },
  LoginHistory: {
    fields: [
      f('Id', 'id'),
      ref('UserId', 'User'),
      f('LoginTime', 'datetime'),
      f('LoginType', 'picklist'),
      f('SourceIp', 'string'),
      f('Status', 'string'),
      f('Browser', 'string'),
      f('Platform', 'string'),
      f('Application', 'string'),
      f('ClientVersion', 'string', { nillable: true }),
      f('ApiType', 'string', { nillable: true }),
      f('ApiVersion', 'string', { nillable: true }),
      f('LoginUrl', 'string'),
      ref('LoginGeoId', 'LoginGeo', 'LoginGeo'),
      f('TlsProtocol', 'picklist'),
      f('CipherSuite', 'picklist'),
    ],
  },
  SetupAuditTrail: {
    fields: [
      f('Id', 'id'),
      f('Action', 'string'),
      f('Section', 'string'),
      f('Display', 'string'),
      f('CreatedDate', 'datetime'),
      ref('CreatedById', 'User', 'CreatedBy'),
      f('DelegateUser', 'string', { nillable: true }),
      f('ResponsibleNamespacePrefix', 'string', { nillable: true }),
      f('CreatedByContext', 'string', { nillable: true }),
      f('CreatedByIssuer', 'string', { nillable: true }),
    ],
  },
  EventLogFile: {
    recycleBin: true,
    fields: [
      ...system(true),
      f('EventType', 'picklist'),
      f('LogDate', 'datetime'),
      f('Interval', 'picklist'),
      f('Sequence', 'int'),
      f('LogFile', 'base64'),
      f('LogFileLength', 'double'),
      f('LogFileContentType', 'string'),
      f('LogFileFieldNames', 'string'),
      f('LogFileFieldTypes', 'string'),
      f('ApiVersion', 'double'),
    ],
  },
  OauthToken: {
    deletable: true,
    fields: [
      f('Id', 'id'),
      f('AppName', 'string'),
      ref('AppMenuItemId', 'AppMenuItem'),
      ref('UserId', 'User', 'User'),
      f('UseCount', 'int'),
      f('LastUsedDate', 'datetime', { nillable: true }),
      f('CreatedDate', 'datetime'),
      f('DeleteToken', 'string'),
      f('RequestToken', 'string'),
    ],
  },
  ConnectedApplication: {
    fields: [...system(false), f('Name', 'string'), f('OptionsAllowAdminApprovedUsersOnly', 'boolean')],
  },
  AppMenuItem: null,
  ContentDocument: {
    deletable: true,
    updateable: true,
    recycleBin: true,
    fields: [
      ...system(true),
      f('Title', 'string', { updateable: true }),
      f('Description', 'string', { nillable: true, updateable: true }),
      f('FileType', 'string'),
      f('FileExtension', 'string'),
      f('ContentSize', 'int'),
      ref('OwnerId', 'User', 'Owner', { updateable: true }),
      ref('LatestPublishedVersionId', 'ContentVersion', 'LatestPublishedVersion'),
      ref('ParentId', 'ContentWorkspace'),
      f('PublishStatus', 'picklist'),
      f('IsArchived', 'boolean'),
      f('ArchivedDate', 'date', { nillable: true }),
      f('SharingOption', 'picklist'),
      f('SharingPrivacy', 'picklist'),
      f('ContentModifiedDate', 'datetime'),
    ],
  },
  ContentVersion: {
    createable: true,
    updateable: true,
    recycleBin: true,
    fields: [
      ...system(true),
      ref('ContentDocumentId', 'ContentDocument', 'ContentDocument', { createable: true }),
      f('Title', 'string', { createable: true, updateable: true }),
      f('Description', 'string', { nillable: true, createable: true, updateable: true }),
      f('PathOnClient', 'string', { createable: true }),
      f('VersionData', 'base64', { createable: true }),
      f('VersionNumber', 'string'),
      f('IsLatest', 'boolean'),
      f('Checksum', 'string'),
      f('ContentSize', 'int'),
      f('FileType', 'string'),
      f('FileExtension', 'string'),
      f('ReasonForChange', 'string', { nillable: true, createable: true }),
      ref('OwnerId', 'User', 'Owner'),
      ref('FirstPublishLocationId', ['User', 'Group'], undefined, { createable: true }),
      f('ContentModifiedDate', 'datetime'),
    ],
  },
  ContentDocumentLink: {
    createable: true,
    deletable: true,
    updateable: true,
    fields: [
      f('Id', 'id'),
      ref('ContentDocumentId', 'ContentDocument', 'ContentDocument', { createable: true }),
      ref('LinkedEntityId', ['User', 'Group', 'Organization'], 'LinkedEntity', { createable: true }),
      f('ShareType', 'picklist', { createable: true, updateable: true }),
      f('Visibility', 'picklist', { createable: true, updateable: true }),
      f('IsDeleted', 'boolean'),
      f('SystemModstamp', 'datetime'),
    ],
  },
  // undelete() is among its supported calls, and "If the shared document is deleted, the delete cascades to
  // any associated ContentDistribution. The ContentDistribution is still queryable by using the QueryAll verb":
  // deleted public links go to the recycle bin and carry IsDeleted
  // (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdistribution.htm,
  // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/system_fields.htm).
  ContentDistribution: {
    createable: true,
    deletable: true,
    updateable: true,
    recycleBin: true,
    // getDeleted() and getUpdated() are not among its supported calls.
    replicateable: false,
    fields: [
      ...system(true),
      f('Name', 'string', { createable: true, updateable: true }),
      ref('ContentVersionId', 'ContentVersion', 'ContentVersion', { createable: true }),
      ref('ContentDocumentId', 'ContentDocument', 'ContentDocument'),
      ref('OwnerId', 'User', 'Owner'),
      f('DistributionPublicUrl', 'url'),
      f('ContentDownloadUrl', 'url', { nillable: true }),
      f('PreferencesAllowViewInBrowser', 'boolean', { createable: true, updateable: true }),
      f('PreferencesAllowOriginalDownload', 'boolean', { createable: true, updateable: true }),
      f('PreferencesAllowPDFDownload', 'boolean', { createable: true, updateable: true }),
      f('PreferencesExpires', 'boolean', { createable: true, updateable: true }),
      f('PreferencesPasswordRequired', 'boolean', { createable: true, updateable: true }),
      f('ExpiryDate', 'datetime', { nillable: true, createable: true, updateable: true }),
      f('ViewCount', 'int'),
      f('FirstViewDate', 'datetime', { nillable: true }),
      f('LastViewDate', 'datetime', { nillable: true }),
    ],
  },
  QueryLocator: null,
};

function define(name: string, shape: Shape): ObjectDef {
  const byName = new Map(shape.fields.map((field) => [field.name.toLowerCase(), field]));
  const byRelationship = new Map(
    shape.fields.filter((field) => field.relationshipName).map((field) => [field.relationshipName!.toLowerCase(), field]),
  );
  return {
    name,
    keyPrefix: KEY_PREFIXES[name as KeyPrefixed],
    fields: shape.fields,
    createable: shape.createable ?? false,
    deletable: shape.deletable ?? false,
    updateable: shape.updateable ?? false,
    recycleBin: shape.recycleBin ?? false,
    replicateable: shape.replicateable ?? shape.recycleBin ?? false,
    byName,
    byRelationship,
  };
}

/** The objects served, by name. */
export const OBJECTS: ReadonlyMap<string, ObjectDef> = new Map(
  Object.entries(SHAPES)
    .filter((entry): entry is [string, Shape] => entry[1] !== null)
    .map(([name, shape]) => [name, define(name, shape)]),
);

/** Lower-cased object name → its definition (SOQL and URLs name objects in any case). */
export const OBJECTS_CI: ReadonlyMap<string, ObjectDef> = new Map([...OBJECTS.values()].map((def) => [def.name.toLowerCase(), def]));

export type ObjectName = Exclude<KeyPrefixed, 'AppMenuItem' | 'QueryLocator'>;

/** Key prefix → the object whose ids start with it. */
export const OBJECTS_BY_PREFIX: ReadonlyMap<string, ObjectDef> = new Map([...OBJECTS.values()].map((def) => [def.keyPrefix, def]));
