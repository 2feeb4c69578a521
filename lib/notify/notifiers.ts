/** The two notifiers, wired from configuration: what the workers and the tests start. */
import type { KafkaConfig, NotifierConfig } from "@/lib/config";
import type { Db } from "@/lib/db";
import { createEmailChannel } from "./email";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry";
import { createSlackChannel } from "./slack";
import { createSubscriber, type Log, type Subscriber } from "./subscriber";

export interface NotifierDeps {
  db: Db;
  config: KafkaConfig;
  notifier: NotifierConfig;
  retry?: RetryPolicy;
  log?: Log;
}

const common = ({ db, config, notifier, retry = DEFAULT_RETRY, log }: NotifierDeps) => ({
  db,
  config,
  retry,
  log,
  maxAgeMs: notifier.NOTIFY_MAX_AGE_HOURS * 3_600_000,
});

export const createEmailNotifier = (deps: NotifierDeps): Subscriber =>
  createSubscriber({
    ...common(deps),
    group: deps.notifier.NOTIFIER_EMAIL_GROUP_ID,
    channel: createEmailChannel(deps.notifier, deps.retry),
  });

export const createSlackNotifier = (deps: NotifierDeps): Subscriber =>
  createSubscriber({
    ...common(deps),
    group: deps.notifier.NOTIFIER_SLACK_GROUP_ID,
    channel: createSlackChannel(deps.notifier, deps.retry),
  });

export type NotifierFactory = typeof createEmailNotifier;
