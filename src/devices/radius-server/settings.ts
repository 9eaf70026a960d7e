/**
 * A RADIUS server's settings in a scenario, as Effect Schema fields (the only source of its type):
 * fazlab's names, since the server stands for any RADIUS server (FreeRADIUS, FortiAuthenticator)
 * the analyzer is given: its shared secret and the lab's users.
 */
import * as Schema from "effect/Schema"
import type { SpecOf } from "../kind.ts"
import { NonEmpty, orNull, settingsStruct, withDefault } from "../settings.ts"

/** One RADIUS user: its password, and the Fortinet-Group-Name its Access-Accept carries. */
export const RadiusUser = settingsStruct({
  password: NonEmpty,
  group: orNull(NonEmpty)
})

export const radiusServerSettings = {
  /** The shared secret every client uses (RFC 2865 §3). */
  secret: withDefault(NonEmpty, "fazlab-radius"),
  user: withDefault(Schema.Record(NonEmpty, RadiusUser), {})
}

export type RadiusServerSpec = SpecOf<"radius-server", typeof radiusServerSettings, false>
