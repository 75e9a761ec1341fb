import { Ctx, Field, ID, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import type { ConnectorTypeInfo } from '../../platform/ports.js';
import { AppCapability } from '../../platform/vocabulary/instance.js';
import type { AccountsContext } from './context.js';

/** The JSON type of a config field's value. */
export enum ConfigValueType {
  STRING = 'STRING',
  NUMBER = 'NUMBER',
  JSON = 'JSON',
}
registerEnumType(ConfigValueType, {
  name: 'ConfigValueType',
  description: "The JSON type of a config field's value in connectApp's `config`.",
  valuesConfig: {
    STRING: { description: 'A string.' },
    NUMBER: { description: 'A number (a form sends the number, not its digits as text).' },
    JSON: { description: 'An object or a list, as its field description says.' },
  },
});

@ObjectType({ description: "A field of a connector's config, as a connect form renders it." })
export class ConnectorConfigField {
  @Field({ description: "The field's key in connectApp's `config` object." })
  name!: string;

  @Field({ description: 'A short label for the form.' })
  label!: string;

  @Field(() => ConfigValueType, { description: "What its value is in connectApp's `config`: send that type (a number as a number)." })
  valueType!: ConfigValueType;

  @Field({ description: 'Stored encrypted and never returned: a secret, a private key.' })
  secret!: boolean;

  @Field({ description: 'Whether connectApp refuses a config without it.' })
  required!: boolean;

  @Field({ description: 'What to enter and where to find it at the provider.' })
  description!: string;
}

@ObjectType({ description: 'What one capability needs granted at the provider.' })
export class CapabilityPermissions {
  @Field(() => AppCapability, { description: 'The capability.' })
  capability!: AppCapability;

  @Field(() => [String], { description: 'The permissions to grant: the least privileged way to enable the capability.' })
  permissions!: string[];

  @Field(() => [[String]], { description: 'Every requirement, each met by any one of its permissions.' })
  requirements!: string[][];
}

@ObjectType({ description: 'A kind of app Tenantwatch connects to, and what connecting it takes.' })
export class ConnectorType {
  @Field(() => ID, { description: "connectApp's provider." })
  id!: string;

  @Field({ description: `The connector's display name, e.g. "Microsoft 365".` })
  name!: string;

  @Field(() => [AppCapability], { description: 'Everything the connector can do once its permissions are granted.' })
  capabilities!: AppCapability[];

  @Field(() => [ConnectorConfigField], { description: "The fields of connectApp's `config`, in form order." })
  configFields!: ConnectorConfigField[];

  @Field(() => [CapabilityPermissions], { description: 'For each capability, the permissions to grant at the provider.' })
  requiredPermissions!: CapabilityPermissions[];

  @Field({ description: "How to connect it: a URL, or a path in Tenantwatch's repository." })
  documentationUrl!: string;
}

/** A connector's required permissions per capability, in the graph's shape. */
export function capabilityPermissions(type: ConnectorTypeInfo): CapabilityPermissions[] {
  return type.capabilities.map((capability) => {
    const requirements = (type.requiredPermissions[capability] ?? []).map((anyOf) => [...anyOf]);
    return { capability, permissions: requirements.map((anyOf) => anyOf[0]!), requirements };
  });
}

@Resolver(() => ConnectorType)
export class ConnectorTypeResolver {
  @Query(() => [ConnectorType], {
    description: 'Every kind of app Tenantwatch can connect, with its config fields and the permissions each capability needs.',
  })
  connectorTypes(@Ctx() ctx: AccountsContext): ConnectorType[] {
    return ctx.connectors.types.map((type) => ({
      id: type.id,
      name: type.name,
      capabilities: [...type.capabilities],
      configFields: type.configFields.map((field) => ({ ...field, valueType: ConfigValueType[field.valueType ?? 'STRING'] })),
      requiredPermissions: capabilityPermissions(type),
      documentationUrl: type.documentationUrl,
    }));
  }
}
