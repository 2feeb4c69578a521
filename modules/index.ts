/**
 * The composition root: the one list of the modules. The projector worker, the
 * rebuild, the notifiers, the HTTP API and its OpenAPI document and the live
 * listener take what they need from here; lib/ never imports a module. A new
 * aggregate is one folder under modules/ and one line in `modules` below
 * (README, Layout).
 */
import { compose, type EventOf } from "@/lib/module";
import type { StreamName } from "./streams";
import { apiTokensModule } from "./api-tokens/module";
import { rolesModule } from "./roles/module";
import { usersModule } from "./users/module";

const modules = [usersModule, rolesModule, apiTokensModule] as const;

export const app = compose(modules);

/** Every event this application reads and writes. */
export type DomainEvent = EventOf<(typeof modules)[number]>;
export type DomainEventType = DomainEvent["type"];

/** The one serde over every module's events (lib/events/codec.ts). */
export const serde = app.serde;
export const encodeEvent = serde.encode;
export const decodeEvent = serde.decode;
export const streamOf = serde.streamOf as (type: DomainEventType) => StreamName;
