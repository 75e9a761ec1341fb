import { Arg, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { byKeys, loader, type SubgraphContext } from '../../platform/context.js';
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

@InputType('FileFilter')
export class FileFilterInput {
  @Field(() => ID, { nullable: true })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true })
  ownerId?: string | null;

  @Field(() => SharingLevel, { nullable: true })
  sharing?: SharingLevel | null;

  @Field(() => Boolean, { nullable: true })
  trashed?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  quarantined?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Files with (true) or without (false) sensitive matches.' })
  hasSensitive?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Matches name or path, case-insensitively.' })
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

const service = (ctx: SubgraphContext) => new FileService(ctx.em);

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
  @Query(() => FileConnection)
  async files(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => FileFilterInput, { nullable: true }) filter?: FileFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<File>> {
    const parsed = readFileFilter(filter);
    return service(ctx).list(parsed, readPage({ first, after }, FILE_ORDER));
  }

  @Query(() => File, { nullable: true })
  async file(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<File | null> {
    return fileLoaders.file(ctx).load(parseId(id, 'id'));
  }

  @FieldResolver(() => AppInstanceRef)
  instance(@Root() file: File): AppInstanceRef {
    return ref(file.instanceId);
  }

  @FieldResolver(() => FileOwner, { nullable: true })
  owner(@Root() file: File): FileOwner | null {
    return ref(file.ownerId);
  }
}

@Resolver(() => FileOwner)
export class FileOwnerResolver {
  @FieldResolver(() => FileConnection, { description: 'Files this account owns, newest change first.' })
  async files(
    @Root() owner: FileOwner,
    @Ctx() ctx: SubgraphContext,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<File>> {
    return fileLoaders.filesOfOwner(ctx, readPage({ first, after }, FILE_ORDER)).load(owner.id);
  }
}
