/**
 * The Fortinet Registry kind: the peer of the vendor table's "Fortinet Registry · Management
 * Extension Applications download (for example, FortiWLM MEA) · TCP/443, TCP/4443
 * https://registry.fortinet.com" row. It serves fazlab's update protocol under `/mea/v1` on
 * TCP/443 (where an analyzer asks for an application's manifest) and TCP/4443 (where it downloads
 * the application image), with a certificate for registry.fortinet.com; it names no other device,
 * and the lab's DNS answers registry.fortinet.com with its address.
 */
import { vendorHostNames } from "../../catalog/catalog.ts"
import { MEA_PREFIX } from "../../protocols/fortiguard/objects.ts"
import { defineKind } from "../kind.ts"
import { ObjectServer } from "../shared/object-server.ts"
import { fortinetRegistrySettings, meaAppNames } from "./settings.ts"

const ROW = "out-fortinet-registry-mea-download"

/** Bytes of each emulated application image. */
const IMAGE_BYTES = 131_072

export const fortinetRegistry = defineKind({
  name: "fortinet-registry",
  settings: fortinetRegistrySettings,
  hostname: false,
  serialPrefix: "FREG",
  catalogRows: [ROW],
  ports: ["tcp/443", "tcp/4443"],
  references: () => [],
  autostart: () => true,
  build: ({ id, spec, context }) =>
    new ObjectServer(id, {
      kind: "fortinet-registry",
      serial: spec.serial,
      ports: ["tcp/443", "tcp/4443"],
      names: vendorHostNames().filter(({ row }) => row === ROW).map(({ name }) => name),
      prefix: MEA_PREFIX,
      objects: new Map(meaAppNames.map((app) => [app, { version: spec.versions[app], size: IMAGE_BYTES }])),
      releaseInterval: spec.releaseInterval,
      unavailable: new Set(spec.unavailable),
      connectionLimits: spec
    }, context)
})
