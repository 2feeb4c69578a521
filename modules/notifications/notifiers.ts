/**
 * The two notifiers, wired from configuration: what the workers and the tests
 * start. Each reads every module's stream (modules/index.ts) through the
 * shared consumer loop (lib/notify/subscriber.ts), with this feature's view
 * (./known.ts) and rules (./messages.ts).
 */
import type { KafkaConfig, NotifierConfig } from "@/lib/config";
import type { Db } from "@/lib/db";
import { DEFAULT_RETRY, type RetryPolicy } from "@/lib/notify/retry";
import { createSubscriber, type Log, type NotifierView, type Subscriber } from "@/lib/notify/subscriber";
import { app, type DomainEvent } from "@/modules";
import { createEmailChannel } from "./email";
import { foldKnown, loadKnown, saveKnown, type Known, type KnownChange } from "./known";
import { createSlackChannel } from "./slack";

const knownView: NotifierView<DomainEvent, Known, KnownChange> = {
  load: loadKnown,
  fold: foldKnown,
  changes: (change) => !!change.user || !!change.role,
  save: saveKnown,
};

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
  streams: app.streams,
  serde: app.serde,
  view: knownView,
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
