/**
 * The lab's event bus: one publisher side, many subscribers, synchronous fan-out.
 *
 * Publishing never blocks and never throws into the publisher: a subscriber that throws is
 * removed and the failure is counted. `stream()` adapts the bus to an Effect `Stream` with a
 * bounded buffer (sliding: a slow consumer loses the oldest events, never slows the lab).
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type { LabEvent, LabEventBody } from "./events.ts"

export type Subscriber = (event: LabEvent) => void

export class EventBus {
  readonly #subscribers = new Set<Subscriber>()
  readonly #now: () => number
  #failedSubscribers = 0

  /** @param now the lab clock, in milliseconds since the lab started */
  constructor(now: () => number) {
    this.#now = now
  }

  publish(body: LabEventBody): LabEvent {
    const event = { ...body, at: this.#now() } as LabEvent
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(event)
      } catch {
        this.#subscribers.delete(subscriber)
        this.#failedSubscribers++
      }
    }
    return event
  }

  subscribe(subscriber: Subscriber): () => void {
    this.#subscribers.add(subscriber)
    return () => {
      this.#subscribers.delete(subscriber)
    }
  }

  /** Subscribers removed because they threw. */
  get failedSubscribers(): number {
    return this.#failedSubscribers
  }

  /** The bus as an Effect stream; `capacity` bounds what a slow consumer may lag behind. */
  stream(capacity = 4096): Stream.Stream<LabEvent> {
    return Stream.callback<LabEvent>(
      (queue) =>
        Effect.acquireRelease(
          Effect.sync(() => this.subscribe((event) => Queue.offerUnsafe(queue, event))),
          (unsubscribe) => Effect.sync(unsubscribe)
        ),
      { bufferSize: capacity, strategy: "sliding" }
    )
  }
}
