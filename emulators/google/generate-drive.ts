import { MIME, type EmuFile, type EmuPermission } from './drive-store.js';
import { plantedLine, type PlantedKind } from './sensitive.js';
import type { CustomerState, EmuUser } from './tenant.js';

/** Kinds of files generated, with the name's extension (none for Google Docs, Sheets and Slides). */
const KINDS = [
  { mimeType: MIME.doc, ext: '' },
  { mimeType: MIME.doc, ext: '' },
  { mimeType: MIME.sheet, ext: '' },
  { mimeType: MIME.slides, ext: '' },
  { mimeType: 'text/plain', ext: '.txt' },
  { mimeType: 'text/csv', ext: '.csv' },
  { mimeType: 'application/pdf', ext: '.pdf' },
  { mimeType: 'image/png', ext: '.png' },
] as const;
const TITLES = ['Quarterly plan', 'Payroll', 'Customer list', 'Roadmap', 'Board minutes', 'Expenses', 'Onboarding', 'Vendor contracts'];
const PLANTED: readonly PlantedKind[] = ['credit_card', 'ssn', 'iban'];

/** An export larger than Drive's 10 MB export limit (https://developers.google.com/drive/api/reference/rest/v3/files/export). */
export const OVERSIZE_EXPORT = 11 * 1024 * 1024;

/**
 * The customer's My Drive files (spread over active users, a folder each for some) and shared drives,
 * with sharing to other users, groups, the domain, anyone with the link and outside addresses, and
 * sensitive data planted in a fifth of them.
 */
export function generateDrive(state: CustomerState, now: number): void {
  const rng = state.rng;
  const spec = state.spec;
  const store = state.drive;
  const owners = state.users.filter((u) => !u.suspended && !u.archived);
  for (const user of state.users)
    store.add(
      newFile(
        state,
        { id: user.rootFolderId, name: 'My Drive', mimeType: MIME.folder, ownerId: user.id, parentId: '', root: true },
        now,
        user,
      ),
    );
  const folders = new Map<string, string>();
  for (let f = 0; f < spec.files && owners.length > 0; f++) {
    const owner = owners[f % owners.length]!;
    let parentId = owner.rootFolderId;
    if (rng.chance(0.3)) {
      parentId = folders.get(owner.id) ?? '';
      if (!parentId) {
        const folder = store.add(
          newFile(state, { name: 'Projects', mimeType: MIME.folder, ownerId: owner.id, parentId: owner.rootFolderId }, now, owner),
        );
        folders.set(owner.id, (parentId = folder.id));
      }
    }
    const file = store.add(newContentFile(state, f, { ownerId: owner.id, driveId: null, parentId }, now, owner));
    share(state, file, owner);
    store.reindex(file);
  }
  for (let k = 0; k < spec.oversizeDocs && owners.length > 0; k++) {
    const owner = owners[k % owners.length]!;
    const file = newFile(
      state,
      { name: `Data dump ${k + 1}`, mimeType: MIME.doc, ownerId: owner.id, parentId: owner.rootFolderId },
      now,
      owner,
    );
    file.content = Buffer.from('A very long document.\n');
    file.declaredSize = OVERSIZE_EXPORT;
    store.add(file);
  }
  for (let d = 0; d < spec.sharedDrives; d++) {
    const id = rng.driveId();
    const members = owners.slice(0, Math.max(1, Math.min(owners.length, 3 + d)));
    store.drives.set(id, {
      id,
      name: d === 0 ? 'Finance' : `Shared drive ${d + 1}`,
      createdTime: new Date(now - rng.int(30, 400) * 86_400_000).toISOString(),
      members: members.map((u, i) => ({
        principalId: u.id,
        type: 'user' as const,
        role: i === 0 ? ('organizer' as const) : ('writer' as const),
      })),
      deleted: false,
    });
    for (let f = 0; f < spec.filesPerSharedDrive; f++) {
      const file = store.add(
        newContentFile(state, spec.files + d * 1000 + f, { ownerId: null, driveId: id, parentId: id }, now, members[0]!),
      );
      if (f % 4 === 1) file.permissions.push({ id: 'anyoneWithLink', type: 'anyone', role: 'reader', allowFileDiscovery: false });
    }
  }
}

function newFile(
  state: CustomerState,
  fields: Pick<EmuFile, 'name' | 'mimeType' | 'parentId'> & Partial<EmuFile>,
  now: number,
  owner: EmuUser,
): EmuFile {
  const rng = state.rng;
  const created = new Date(now - rng.int(1, 300) * 86_400_000).toISOString();
  return {
    id: rng.fileId(),
    ownerId: null,
    driveId: null,
    trashed: false,
    description: null,
    content: Buffer.alloc(0),
    createdTime: created,
    modifiedTime: created,
    version: 1,
    deleted: false,
    planted: [],
    ...fields,
    permissions: fields.ownerId
      ? [
          {
            id: owner.permissionId,
            type: 'user',
            role: 'owner',
            emailAddress: owner.primaryEmail,
            displayName: `${owner.givenName} ${owner.familyName}`,
            principalId: owner.id,
          },
        ]
      : [],
  };
}

function newContentFile(
  state: CustomerState,
  n: number,
  where: Pick<EmuFile, 'ownerId' | 'driveId' | 'parentId'>,
  now: number,
  owner: EmuUser,
): EmuFile {
  const rng = state.rng;
  const kind = rng.pick(KINDS);
  const planted = rng.chance(0.2) ? [rng.pick(PLANTED)] : [];
  const title = `${rng.pick(TITLES)} ${n + 1}`;
  const lines = [`${title}`, `Prepared by ${owner.givenName} ${owner.familyName}.`, ...planted.map((k) => plantedLine(rng, k))];
  const text =
    kind.mimeType === MIME.sheet || kind.mimeType === 'text/csv'
      ? ['item,amount,note', `travel,${rng.int(10, 900)},ok`, ...planted.map((k) => `flagged,0,"${plantedLine(rng, k)}"`)].join('\r\n')
      : lines.join('\n');
  const content =
    kind.mimeType === 'application/pdf'
      ? Buffer.from(`%PDF-1.4\n% ${text.replaceAll('\n', ' ')}\n%%EOF\n`)
      : kind.mimeType === 'image/png'
        ? Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(rng.int(200, 4000), 7)])
        : Buffer.from(text);
  const file = newFile(state, { name: `${title}${kind.ext}`, mimeType: kind.mimeType, ...where, content }, now, owner);
  file.planted = kind.mimeType === 'image/png' ? [] : planted;
  return file;
}

/** Shares a My Drive file: with a colleague, a group, the domain, anyone with the link, or someone outside. */
function share(state: CustomerState, file: EmuFile, owner: EmuUser): void {
  const rng = state.rng;
  const exposure = rng.next();
  const add = (p: EmuPermission) => file.permissions.push(p);
  if (exposure < 0.1) add({ id: 'anyoneWithLink', type: 'anyone', role: 'reader', allowFileDiscovery: false });
  else if (exposure < 0.2)
    add({ id: `${rng.digits(20)}k`, type: 'domain', role: 'reader', domain: state.spec.domain, allowFileDiscovery: true });
  else if (exposure < 0.3) {
    const domain = rng.pick(state.spec.externalDomains);
    const email = `${rng.pick(['alex', 'sam', 'kim', 'lee'])}.${rng.digits(3)}@${domain}`;
    add({
      id: rng.digits(20),
      type: 'user',
      role: rng.chance(0.5) ? 'writer' : 'reader',
      emailAddress: email,
      displayName: email.split('@')[0]!,
    });
  } else if (exposure < 0.45) {
    const colleague = rng.pick(state.users);
    if (colleague.id !== owner.id)
      add({
        id: colleague.permissionId,
        type: 'user',
        role: 'writer',
        emailAddress: colleague.primaryEmail,
        displayName: `${colleague.givenName} ${colleague.familyName}`,
        principalId: colleague.id,
      });
  } else if (exposure < 0.5 && state.groups.length > 0) {
    const group = rng.pick(state.groups);
    add({
      id: group.permissionId,
      type: 'group',
      role: 'reader',
      emailAddress: group.email,
      displayName: group.name,
      principalId: group.id,
    });
  }
}
