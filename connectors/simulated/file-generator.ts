import { EXTERNAL_DOMAINS, FILE_STEMS, FOLDERS, WORDS } from './catalog.js';
import { EXTENSIONS, formatOf, renderContent } from './content.js';
import { detectable, emailAddress } from './detectables.js';
import { newId } from './directory.js';
import type { ContentFormat, DetectableKind, FileVersion, Planted, SharingLevel, SimFile, SimUser } from './model.js';
import type { Rng } from './prng.js';

/** Files: paths, owners, sharing, collaborators and content with planted sensitive values. */

const DAY = 86_400_000;

export interface FileContext {
  readonly users: readonly SimUser[];
  readonly domain: string;
  readonly now: number;
  /** Ids already used in the tenant. */
  readonly ids: Set<string>;
  /** Paths already used in the tenant. */
  readonly paths: Set<string>;
}

const FORMATS: readonly (readonly [ContentFormat, number])[] = [
  ['text', 35],
  ['csv', 25],
  ['json', 20],
  ['html', 20],
];
const SHARING: readonly (readonly [SharingLevel, number])[] = [
  ['PRIVATE', 40],
  ['INTERNAL', 35],
  ['EXTERNAL', 15],
  ['PUBLIC', 10],
];
const KINDS: readonly (readonly [DetectableKind, number])[] = [
  ['CREDIT_CARD', 25],
  ['US_SSN', 15],
  ['IBAN', 15],
  ['EMAIL', 20],
  ['AWS_ACCESS_KEY', 10],
  ['PRIVATE_KEY', 7],
  ['JWT', 8],
];

function internalEmails(rng: Rng, users: readonly SimUser[], owner: SimUser, count: number): string[] {
  return rng
    .sample(
      users.filter((u) => u.id !== owner.id),
      count,
    )
    .map((u) => u.email);
}

/** Collaborators that fit `sharing`: outsiders only when EXTERNAL. */
export function collaboratorsFor(rng: Rng, sharing: SharingLevel, users: readonly SimUser[], owner: SimUser): string[] {
  const inside = internalEmails(rng, users, owner, rng.int(0, 2));
  if (sharing !== 'EXTERNAL') return inside;
  const outside = Array.from({ length: rng.int(1, 3) }, () => emailAddress(rng, rng.pick(EXTERNAL_DOMAINS)));
  return [...inside, ...new Set(outside)];
}

function plantedValues(rng: Rng, ctx: FileContext, subject: string, kinds: readonly DetectableKind[]): Planted[] {
  const planted: Planted[] = [];
  for (const kind of kinds) {
    const count = kind === 'PRIVATE_KEY' || kind === 'JWT' ? 1 : rng.int(1, 3);
    for (let n = 0; n < count; n++) planted.push(detectable(rng, kind, { domain: ctx.domain, subject, now: ctx.now }));
  }
  return planted;
}

function uniquePath(rng: Rng, paths: Set<string>, format: ContentFormat): { name: string; path: string } {
  const folder = rng.pick(FOLDERS);
  const stem = `${rng.pick(FILE_STEMS)}-${rng.pick(WORDS)}`;
  let name = `${stem}.${EXTENSIONS[format]}`;
  for (let n = 2; paths.has(`${folder}/${name}`); n++) name = `${stem} (${n}).${EXTENSIONS[format]}`;
  paths.add(`${folder}/${name}`);
  return { name, path: `${folder}/${name}` };
}

/** Renders a file's body for its current `planted` list (a new revision draws a new body). */
export function renderFile(
  rng: Rng,
  file: Pick<SimFile, 'id' | 'name' | 'revision'>,
  format: ContentFormat,
  users: readonly SimUser[],
  planted: readonly Planted[],
): FileVersion {
  const r = rng.fork(`content:${file.id}:${file.revision}`);
  return renderContent(
    r,
    format,
    file.name,
    r.sample(users, 5).map((u) => u.displayName),
    planted,
  );
}

/** One new file owned by a random user; `createdAt` between `oldest` and `ctx.now`. */
export function makeFile(rng: Rng, ctx: FileContext, oldest: number): SimFile {
  const format = rng.weighted(FORMATS);
  const { name, path } = uniquePath(rng, ctx.paths, format);
  const owner = rng.pick(ctx.users);
  const sharing = rng.weighted(SHARING);
  const kinds = rng.chance(0.3) ? [...new Set(Array.from({ length: rng.int(1, 3) }, () => rng.weighted(KINDS)))] : [];
  const createdAt = rng.int(oldest, ctx.now);
  const id = newId(rng, 'fil', ctx.ids);
  const version = renderFile(rng, { id, name, revision: 1 }, format, ctx.users, plantedValues(rng, ctx, owner.email, kinds));
  return {
    id,
    name,
    path,
    mimeType: version.mimeType,
    ownerId: owner.id,
    sharing,
    collaborators: collaboratorsFor(rng, sharing, ctx.users, owner),
    trashed: false,
    quarantined: false,
    pathBeforeQuarantine: null,
    createdAt: new Date(createdAt).toISOString(),
    modifiedAt: new Date(rng.int(createdAt, ctx.now)).toISOString(),
    revision: 1,
    etag: version.etag,
    content: version.content,
    planted: version.planted,
    original: null,
    deleted: false,
  };
}

/**
 * `count` files: about 30% hold sensitive values, about 5% are trashed, and at least
 * max(3, 3%) of them are PUBLIC or EXTERNAL and hold card numbers.
 */
export function generateFiles(rng: Rng, count: number, ctx: FileContext): SimFile[] {
  const files = Array.from({ length: count }, (_, i) => {
    const file = makeFile(rng.fork(`file:${i}`), ctx, ctx.now - 365 * DAY);
    file.trashed = rng.fork(`trash:${i}`).chance(0.05);
    return file;
  });
  const wanted = Math.min(count, Math.max(3, Math.round(count * 0.03)));
  const exposed = (f: SimFile) => f.sharing === 'PUBLIC' || f.sharing === 'EXTERNAL';
  const hasCards = (f: SimFile) => f.planted.some((p) => p.kind === 'CREDIT_CARD');
  const r = rng.fork('exposed-cards');
  let have = files.filter((f) => exposed(f) && hasCards(f) && !f.trashed).length;
  for (const file of r.shuffle(files)) {
    if (have >= wanted) break;
    if (hasCards(file) && exposed(file) && !file.trashed) continue;
    if (!exposed(file)) {
      file.sharing = r.chance(0.5) ? 'PUBLIC' : 'EXTERNAL';
      const owner = ctx.users.find((u) => u.id === file.ownerId)!;
      file.collaborators = collaboratorsFor(r, file.sharing, ctx.users, owner);
    }
    file.trashed = false;
    const planted = [...file.planted, ...plantedValues(r, ctx, file.ownerId, ['CREDIT_CARD'])];
    Object.assign(file, versionFields(renderFile(r, file, formatOf(file.mimeType), ctx.users, planted)));
    have++;
  }
  return files;
}

/** The fields of a file that a content version sets. */
export function versionFields(version: FileVersion): Pick<SimFile, 'content' | 'mimeType' | 'etag' | 'planted'> {
  return { content: version.content, mimeType: version.mimeType, etag: version.etag, planted: version.planted };
}

/** A new body for an edited file: same format, the old planted values, sometimes a new card number. */
export function editedVersion(rng: Rng, file: SimFile, ctx: FileContext): FileVersion {
  const planted = rng.chance(0.2) ? [...file.planted, ...plantedValues(rng, ctx, file.ownerId, ['CREDIT_CARD'])] : file.planted;
  return renderFile(rng, file, formatOf(file.mimeType), ctx.users, planted);
}
