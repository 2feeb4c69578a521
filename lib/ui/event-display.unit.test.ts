import { describe, expect, it } from "vitest";
import { eventTone } from "./event-display";

describe("eventTone", () => {
  it("colours a change by the verb its event name ends with, whatever its module", () => {
    expect(["ThingCreated", "ThingUpdated", "ThingDeleted", "TagAssignedToThing", "TagUnassignedFromThing", "ThingLoggedIn", "ThingRevoked", "ThingLoginFailed", "ThingSessionsEnded"].map(eventTone)).toEqual([
      "green",
      "blue",
      "red",
      "violet",
      "amber",
      "neutral",
      "red",
      "red",
      "amber",
    ]);
  });
});
