import { Arg, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { byKeys, loader, type SubgraphContext } from '../../platform/context.js';
import { scopeOf } from '../../platform/scope.js';
import { badInput } from '../../platform/errors.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection, type PageRequest } from '../../platform/pagination.js';
import { AppInstanceRef, ref } from '../../platform/references.js';
import { File } from './file.entity.js';
import { FILE_ORDER, FileService, type FileFilter } from './file.service.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';

@ObjectType({ description: 'A page of files, with where it starts and ends and how many match in all.' })
export class FileConnection extends connectionType(File, 'File', 'files') {}

/** Account as the files subgraph sees it: it contributes `Account.files`. */
@ObjectType('Account')
@Directive('@key(fields: "id")')
export class FileOwner {
  @Field(() => ID)
  id!: string;
}

@InputType('FileFilter', { description: 'Which files to list; every field given must match (none: every file).' })
export class FileFilterInput {
  @Field(() => ID, { nullable: true, description: 'Files of this app instance.' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Files this account owns.' })
  ownerId?: string | null;

  @Field(() => SharingLevel, { nullable: true, description: 'Files shared at exactly this level.' })
  sharing?: SharingLevel | null;

  @Field(() => Boolean, { nullable: true, description: 'Only trashed (true) or only untrashed (false) files.' })
  trashed?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Only quarantined (true) or only unquarantined (false) files.' })
  quarantined?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Files with (true) or without (false) sensitive matches.' })
  hasSensitive?: boolean | null;

  @Field(() => String, { nullable: true, description: 'A case-insensitive part of the name or path (at most 200 characters).' })
  search?: string | null;
}

function readFileFilter(filter: FileFilterInput | null | undefined): FileFilter {
  if (!filter) return {};
  if (filter.search && filter.search.length > 200) throw badInput('filter.search', 'must be at most 200 characters');
  return {
    instanceId: parseOptionalId(filter.instanceId, 'filter.instanceId'),
    ownerId: parseOptionalId(filter.ownerId, 'filter.ownerId'),
    sharing: filter.sharing ?? undefined,
    trashed: filter.trashed ?? undefined,
    quarantined: filter.quarantined ?? undefined,
    hasSensitive: filter.hasSensitive ?? undefined,
    search: filter.search || undefined,
  };
}

const service = (ctx: SubgraphContext) => new FileService(ctx.em, scopeOf(ctx));

export const fileLoaders = {
  file: (ctx: SubgraphContext) =>
    loader<string, File | null>(ctx, 'file', async (ids) => byKeys(ids, await service(ctx).byIds(ids), (f) => f.id)),
  filesOfOwner: (ctx: SubgraphContext, page: PageRequest) =>
    loader<string, Connection<File>>(ctx, `filesOfOwner:${JSON.stringify(page)}`, async (ids) => {
      const found = await service(ctx).filesOfOwners(ids, page);
      return ids.map((id) => found.get(id)!);
    }),
};

@Resolver(() => File)
export class FileResolver {
  @Query(() => FileConnection, { description: 'Files of every instance (deleted at the provider excluded), most recently modified first.' })
  async files(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => FileFilterInput, { nullable: true, description: 'Which files; absent: all of them.' })
    filter?: FileFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<File>> {
    const parsed = readFileFilter(filter);
    return service(ctx).list(parsed, readPage({ first, after }, FILE_ORDER));
  }

  @Query(() => File, { nullable: true, description: 'One file by id, also after the provider deleted it; null when no file has this id.' })
  async file(@Arg('id', () => ID, { description: "The file's id." }) id: string, @Ctx() ctx: SubgraphContext): Promise<File | null> {
    return fileLoaders.file(ctx).load(parseId(id, 'id'));
  }

  @FieldResolver(() => AppInstanceRef, {
    nullable: true,
    description: 'The app instance the file is stored in. Null only while the accounts subgraph cannot be reached (the error names it).',
  })
  instance(@Root() file: File): AppInstanceRef {
    return ref(file.instanceId);
  }

  @FieldResolver(() => FileOwner, {
    nullable: true,
    description: 'The account that owns it; null when the provider names none or Tenantwatch does not know the account.',
  })
  owner(@Root() file: File): FileOwner | null {
    return ref(file.ownerId);
  }
}

@Resolver(() => FileOwner)
export class FileOwnerResolver {
  @FieldResolver(() => FileConnection, {
    nullable: true,
    description:
      'Files this account owns (deleted at the provider excluded), most recently modified first. Null only while the files subgraph cannot be reached (the error names it).',
  })
  async files(
    @Root() owner: FileOwner,
    @Ctx() ctx: SubgraphContext,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<File>> {
    return fileLoaders.filesOfOwner(ctx, readPage({ first, after }, FILE_ORDER)).load(owner.id);
  }
}
