/**
 * The file server kind: the peer of the vendor table's "Log & report · TCP/20, 21, 22" and
 * "Configuration backups · TCP/22" rows. It listens on TCP/21 (FTP) and TCP/22 (SFTP, SCP),
 * names no other device, and keeps the files it receives.
 */
import { defineKind } from "../kind.ts"
import { FILE_SERVER_PORTS, FileServer } from "./file-server.ts"
import { fileServerSettings } from "./settings.ts"

export const fileServer = defineKind({
  name: "file-server",
  settings: fileServerSettings,
  hostname: true,
  serialPrefix: "FILE",
  catalogRows: ["out-non-fortinet-log-report", "out-non-fortinet-config-backups"],
  ports: FILE_SERVER_PORTS,
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) => new FileServer(id, spec, context)
})
