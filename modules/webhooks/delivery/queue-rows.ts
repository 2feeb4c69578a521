/**
 * The queue rows (webhook_deliveries) for a batch of Kafka messages: one per
 * readable event and subscription that selects it, holding the message as it
 * is in the log. Shared by the dispatcher (live) and a replay.
 */
import type { KafkaMessage } from "kafkajs";
import type { DomainEvent } from "@/modules";
import { readEventForDelivery } from "./read-event";

export interface QueueRow {
  subscriptionId: string;
  eventId: string;
  eventType: string;
  aggregateId: string;
  topic: string;
  partition: number;
  offset: bigint;
  messageKey: string | null;
  messageValue: Uint8Array<ArrayBuffer>;
  replayId?: bigint;
}

export function queueRows(
  at: { topic: string; partition: number; stream: string },
  messages: readonly KafkaMessage[],
  /** The subscriptions that get `event`, logged at `loggedAt` (the message's Kafka timestamp). */
  select: (event: DomainEvent, loggedAt: Date) => readonly string[],
  replayId?: bigint,
): QueueRow[] {
  const rows: QueueRow[] = [];
  for (const m of messages) {
    if (!m.value) continue;
    const key = m.key?.toString("utf8") ?? null;
    const read = readEventForDelivery({ stream: at.stream, key, value: m.value });
    if (!read.ok) continue; // the projector dead-letters it; there is nothing to deliver
    for (const subscriptionId of select(read.event, new Date(Number(m.timestamp)))) {
      rows.push({
        subscriptionId,
        eventId: read.event.id,
        eventType: read.event.type,
        aggregateId: read.event.aggregateId,
        topic: at.topic,
        partition: at.partition,
        offset: BigInt(m.offset),
        messageKey: key,
        messageValue: new Uint8Array(m.value),
        ...(replayId !== undefined ? { replayId } : {}),
      });
    }
  }
  return rows;
}
