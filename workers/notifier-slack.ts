/**
 * Slack notifier worker (consumer group notifier-slack): a user gaining or
 * losing the admin role, a user deleted, POSTed to SLACK_WEBHOOK_URL; without
 * it, logged and not sent.
 */
import { createSlackNotifier } from "@/modules/notifications/notifiers";
import { runNotifierWorker } from "@/modules/notifications/run-worker";

runNotifierWorker("notifier-slack", createSlackNotifier);
