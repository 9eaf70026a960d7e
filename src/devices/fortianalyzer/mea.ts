/**
 * The analyzer's management extension applications (`config system docker`): with `status
 * enable`, each application enabled there (`fortiwlm enable` ...) is checked on the Fortinet
 * Registry, registry.fortinet.com, resolved through the analyzer's DNS, with each FortiGuard
 * update round (`fortiguard.ts`): its manifest from TCP/443, its image, when newer than the one
 * installed, from TCP/4443 (docs/protocols/fortiguard.md, "The Fortinet Registry"). Each
 * application's outcome is an `mea-update` event.
 */
import { MEA_PREFIX } from "../../protocols/fortiguard/objects.ts"
import { meaAppNames } from "../fortinet-registry/settings.ts"
import { Enable, settingsStruct, withDefault } from "../settings.ts"

/** `config system docker`: the switch, and one per application (all disabled by default, as on a new unit). */
export const DockerSettings = settingsStruct({
  status: withDefault(Enable, "disable"),
  fortiwlm: withDefault(Enable, "disable"),
  fortisoar: withDefault(Enable, "disable"),
  fortisigconverter: withDefault(Enable, "disable")
})
export type DockerSettings = typeof DockerSettings.Type

/** The registry's name (the vendor table's URL). */
export const REGISTRY_NAME = "registry.fortinet.com"

/** The applications to check on the registry under these settings: none unless `status enable`. */
export const meaTargets = (docker: DockerSettings) =>
  docker.status !== "enable"
    ? []
    : meaAppNames.filter((app) => docker[app] === "enable").map((app) => ({
      source: "registry" as const,
      service: `${app} MEA`,
      object: app,
      name: REGISTRY_NAME,
      prefix: MEA_PREFIX,
      manifestPort: "tcp/443" as const,
      packagePort: "tcp/4443" as const
    }))
