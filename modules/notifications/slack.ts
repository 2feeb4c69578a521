/**
 * The Slack notifier's channel: a user gaining or losing the admin role, and a
 * user deleted, POSTed as `{ text }` to a Slack incoming webhook. Without
 * SLACK_WEBHOOK_URL it only logs what it would post.
 */
import type { NotifierConfig } from "@/lib/config";
import type { DomainEvent } from "@/modules";
import type { Known } from "./known";
import { planSlack, type SlackMessage } from "./messages";
import { DEFAULT_RETRY, type RetryPolicy } from "@/lib/notify/retry";
import type { Channel } from "@/lib/notify/subscriber";

type SlackConfig = Pick<NotifierConfig, "SLACK_WEBHOOK_URL" | "CONSOLE_URL">;

export function createSlackChannel(config: SlackConfig, retry: RetryPolicy = DEFAULT_RETRY): Channel<SlackMessage, DomainEvent, Known> {
  const settings = { consoleUrl: config.CONSOLE_URL };
  const url = config.SLACK_WEBHOOK_URL;
  return {
    // The webhook's path is its secret: only the host is shown.
    destination: url ? `Slack webhook on ${new URL(url).host}` : "nowhere",
    disabled: url ? undefined : "SLACK_WEBHOOK_URL is not set",
    plan: (event, known) => planSlack(event, known, settings),
    async send(message) {
      // Every failure is retried: a wrong or revoked webhook is configuration to
      // fix, not a reason to drop notifications (the log line says what Slack answered).
      const response = await fetch(url!, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: message.text }),
        signal: AbortSignal.timeout(retry.attemptTimeoutMs),
      });
      if (!response.ok) {
        const body = (await response.text().catch(() => "")).slice(0, 200);
        throw new Error(`Slack webhook answered ${response.status}${body ? `: ${body}` : ""}`);
      }
      await response.body?.cancel();
    },
  };
}
