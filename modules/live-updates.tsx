"use client";
/** The live listener (lib/live/live-updates.tsx) with the modules' live definitions: functions, so given on the client side. */
import { LiveUpdates as Listener } from "@/lib/live/live-updates";
import { live } from "./live";

export function LiveUpdates() {
  return <Listener live={live} />;
}
