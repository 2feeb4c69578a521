/** The API tokens module as the framework sees it (lib/module.ts), listed in modules/index.ts. */
import { defineModule } from "@/lib/module";
import { STREAM } from "@/modules/streams";
import type { ApiTokenState } from "./domain/api-token";
import { apiTokenEvents, type ApiTokenEvent } from "./domain/events";
import { API_TOKEN_TIMELINE, loadApiTokens, projectApiTokenEvent, saveApiTokens } from "./projections/api-token-projection";

export const apiTokensModule = defineModule<ApiTokenState, ApiTokenEvent>({
  name: "api-tokens",
  stream: STREAM.apiTokens,
  events: apiTokenEvents,
  projection: {
    timeline: API_TOKEN_TIMELINE,
    tables: [API_TOKEN_TIMELINE.table],
    load: loadApiTokens,
    project: projectApiTokenEvent,
    save: saveApiTokens,
    // Its only table is its timeline, which the framework writes: nothing else to collect.
    bulk: () => ({ add() {}, tables: () => [] }),
  },
});
