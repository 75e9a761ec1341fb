import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { SubgraphContext } from '../../platform/context.js';
import { badInput } from '../../platform/errors.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection } from '../../platform/pagination.js';
import { AppInstanceRef, ref } from '../../platform/references.js';
import { Activity } from './activity.entity.js';
import { ACTIVITY_ORDER, type ActivityFilter } from './activity.service.js';
import { SEARCH_MAX, SEARCH_MIN } from './activity-search.js';
import { parseCidr } from './policy-condition.js';
import { loaders, services } from './context.js';
import { Actor, FileRef } from './references.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';

@ObjectType({ description: 'A page of activities, with where it starts and ends and how many match in all.' })
export class ActivityConnection extends connectionType(Activity, 'Activity', 'activities') {}

@InputType('ActivityFilter', { description: 'Which activities to list; every field given must match (none: every activity).' })
export class ActivityFilterInput {
  @Field(() => ID, { nullable: true, description: 'Activities of this app instance.' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Activities this account performed (ignored under `Account.activities`).' })
  actorId?: string | null;

  @Field(() => ActivityCategory, { nullable: true, description: 'Activities of this category.' })
  category?: ActivityCategory | null;

  @Field(() => String, { nullable: true, description: 'Exact normalized action, e.g. "file.download".' })
  action?: string | null;

  @Field(() => Date, { nullable: true, description: 'Occurred at or after (inclusive).' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Occurred before (exclusive).' })
  to?: Date | null;

  @Field(() => String, { nullable: true, description: 'Exact IP address, as the provider reported it.' })
  ipAddress?: string | null;

  @Field(() => String, { nullable: true, description: 'A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or one address the IP address is in.' })
  ipRange?: string | null;

  @Field(() => [String], { nullable: true, description: 'ISO 3166 alpha-2 country codes (any of them, at most 300), e.g. ["US", "DE"].' })
  country?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Only successful (true) or failed (false) activities.' })
  succeeded?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Case-insensitive text (3 to 100 characters) found anywhere in the action, the actor’s or file’s provider id, the IP address, the country, the user agent or the target.',
  })
  search?: string | null;
}

/** Checks an ActivityFilter at the edge; `argument` prefixes the names in messages. */
export function readActivityFilter(filter: ActivityFilterInput | null | undefined, argument = 'filter'): ActivityFilter {
  if (!filter) return {};
  if (filter.from && filter.to && filter.from > filter.to) {
    throw badInput(`${argument}.from`, `must not be after ${argument}.to (${filter.from.toISOString()} > ${filter.to.toISOString()})`);
  }
  if (filter.action && filter.action.length > 200) throw badInput(`${argument}.action`, 'must be at most 200 characters');
  if (filter.ipAddress && filter.ipAddress.length > 64) throw badInput(`${argument}.ipAddress`, 'must be an IPv4 or IPv6 address');
  let ipRange: string | undefined;
  if (filter.ipRange) {
    const cidr = filter.ipRange.length <= 64 ? parseCidr(filter.ipRange) : null;
    if (!cidr) throw badInput(`${argument}.ipRange`, 'must be a CIDR block such as 10.0.0.0/8 or 2001:db8::/32, or one address');
    ipRange = `${cidr.address}/${cidr.prefix}`;
  }
  const countries = filter.country ?? undefined;
  if (countries) {
    if (countries.length === 0 || countries.length > 300) throw badInput(`${argument}.country`, 'must hold 1 to 300 country codes');
    countries.forEach((c, i) => {
      if (!/^[A-Za-z]{2}$/.test(c)) throw badInput(`${argument}.country.${i}`, 'must be an ISO 3166 alpha-2 country code such as "US"');
    });
  }
  const search = filter.search?.trim();
  if (search !== undefined && (search.length < SEARCH_MIN || search.length > SEARCH_MAX))
    throw badInput(`${argument}.search`, `must be ${SEARCH_MIN} to ${SEARCH_MAX} characters`);
  return {
    instanceId: parseOptionalId(filter.instanceId, `${argument}.instanceId`),
    actorId: parseOptionalId(filter.actorId, `${argument}.actorId`),
    category: filter.category ?? undefined,
    action: filter.action || undefined,
    from: filter.from ?? undefined,
    to: filter.to ?? undefined,
    ipAddress: filter.ipAddress || undefined,
    ...(ipRange ? { ipRange } : {}),
    ...(countries ? { countries: [...new Set(countries.map((c) => c.toUpperCase()))] } : {}),
    ...(filter.succeeded !== null && filter.succeeded !== undefined ? { succeeded: filter.succeeded } : {}),
    ...(search ? { search } : {}),
  };
}

@Resolver(() => Activity)
export class ActivityResolver {
  @Query(() => ActivityConnection, { description: 'Audit events, newest first.' })
  async activities(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => ActivityFilterInput, { nullable: true, description: 'Which activities; absent: all of them.' })
    filter?: ActivityFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Activity>> {
    const parsed = readActivityFilter(filter);
    return services.activity(ctx).list(parsed, readPage({ first, after }, ACTIVITY_ORDER));
  }

  @Query(() => Activity, { nullable: true, description: 'One activity by id; null when none has it.' })
  async activity(
    @Arg('id', () => ID, { description: "The activity's id." }) id: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Activity | null> {
    return loaders.activity(ctx).load(parseId(id, 'id'));
  }

  @FieldResolver(() => AppInstanceRef, {
    nullable: true,
    description: 'The app instance it was recorded in. Null only while the accounts subgraph cannot be reached (the error names it).',
  })
  instance(@Root() activity: Activity): AppInstanceRef {
    return ref(activity.instanceId);
  }

  @FieldResolver(() => Actor, {
    nullable: true,
    description: 'The account that performed it; null when the event names none or the account is not known (yet).',
  })
  actor(@Root() activity: Activity): Actor | null {
    return ref(activity.actorId);
  }

  @FieldResolver(() => FileRef, {
    nullable: true,
    description: 'The file it is about; null when it is about none, or one Tenantwatch does not know (yet).',
  })
  file(@Root() activity: Activity): FileRef | null {
    return ref(activity.fileId);
  }
}

@Resolver(() => Actor)
export class ActorResolver {
  @FieldResolver(() => ActivityConnection, {
    nullable: true,
    description:
      'Audit events this account performed, newest first. Null only while the activities subgraph cannot be reached (the error names it).',
  })
  async activities(
    @Root() actor: Actor,
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => ActivityFilterInput, { nullable: true, description: 'Which of them (`actorId` is ignored); absent: all of them.' })
    filter?: ActivityFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Activity>> {
    const { actorId: _ignored, ...parsed } = readActivityFilter(filter);
    return loaders.activitiesOfActor(ctx, parsed, readPage({ first, after }, ACTIVITY_ORDER)).load(actor.id);
  }
}
