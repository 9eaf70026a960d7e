/**
 * An LDAP server's settings in a scenario, as Effect Schema fields (the only source of its type):
 * fazlab's names, since the server stands for any directory (OpenLDAP, Active Directory) the
 * analyzer is given. Its users are the lab's directory users, each with its password and groups.
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { connectionLimitFieldsOf, Enable, NonEmpty, orNull, settingsStruct, withDefault } from "../settings.ts"

/** One directory user: `uid=<name>,ou=people,<base-dn>`. */
export const LdapUser = settingsStruct({
  password: NonEmpty,
  /** The groups (`cn=<group>,ou=groups,<base-dn>`) it is a member of. */
  group: withDefault(Schema.Array(NonEmpty), []),
  mail: orNull(NonEmpty)
})

export const ldapServerSettings = {
  /** The directory's naming context. */
  baseDn: withDefault(NonEmpty, "dc=fazlab,dc=lab"),
  /** A service account that may bind besides the users (what an analyzer's `type regular` binds as). */
  bind: orNull(settingsStruct({ dn: NonEmpty, password: NonEmpty })),
  /** Whether an anonymous client may search (`enable`), or gets insufficientAccessRights. */
  anonymousSearch: withDefault(Enable, "enable"),
  user: withDefault(Schema.Record(NonEmpty, LdapUser), {}),
  /** TCP/389's connection rules (docs/errors.md): 256 connections at once by default. */
  ...connectionLimitFieldsOf(256)
}

export type LdapServerSpec = SpecOf<"ldap-server", typeof ldapServerSettings, false>
