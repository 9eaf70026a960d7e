/**
 * A file server's settings in a scenario, as Effect Schema fields (the only source of its type):
 * fazlab's names, since the server stands for any FTP/SFTP/SCP server an analyzer uploads to.
 */
import * as Schema from "effect/Schema"
import { SshPublicKeyLine } from "../fortianalyzer/admin.ts"
import type { SpecOf } from "../kind.ts"
import { connectionLimitFields, NonEmpty, settingsStruct, withDefault } from "../settings.ts"

/** One account: a password (FTP, SFTP, SCP) and, for SFTP and SCP, OpenSSH public keys. */
export const FileServerUser = settingsStruct({
  password: NonEmpty,
  sshPublicKey: withDefault(Schema.Array(SshPublicKeyLine), [])
})
export type FileServerUser = typeof FileServerUser.Type

export const fileServerSettings = {
  /** Who may log in, by user name; every user sees the same folder. */
  user: withDefault(Schema.Record(NonEmpty, FileServerUser), {}),
  /** The connection rules of TCP/21 and TCP/22 each. */
  ...connectionLimitFields
}

export type FileServerSpec = SpecOf<"file-server", typeof fileServerSettings, true>
