/** The health page's sections (server components). */
import Link from "next/link";
import type { ReactNode } from "react";
import { Badge } from "@/lib/ui/badge";
import { formatDateTime } from "@/lib/ui/format";
import {
  formatPartitions,
  type ConsumerGroupHealth,
  type DeadLetterHealth,
  type Health,
  type PartitionHealth,
  type ProjectorInstanceView,
  type TopicHealth,
} from "../read/health";
import type { PartitionError, StalledPartition } from "../read/stall";
import { formatAge, formatAgo, formatCount, formatMs } from "./format";
import { Section } from "./section";
import { ThroughputChart } from "./throughput-chart";

const th = "px-3 py-2 font-semibold whitespace-nowrap";
const td = "px-3 py-2 whitespace-nowrap tabular-nums";

/** `rebuild`: the rebuild card (rebuild-panel.tsx), shown after the instances. */
export function HealthView({ health, rebuild }: { health: Health; rebuild?: ReactNode }) {
  const lag = health.topics.reduce((n, t) => n + t.lag, 0n);
  const alive = health.instances.filter((i) => i.isAlive).length;
  const inClear = health.personalDataInClear.reduce((n, s) => n + s.events, 0);
  const crashed = health.instances.filter((i) => i.status === "crashed").length;
  const stuck = health.instances.filter((i) => i.status === "stuck").length;
  const partitions = health.topics.reduce((n, t) => n + t.partitions.length, 0);
  const stalled = [...health.stalled, ...health.notifiers.flatMap((n) => n.stalled)];
  const failing = [...health.failing, ...health.notifiers.flatMap((n) => n.failing)];
  const stalledHere = (topic: string) => new Set(health.stalled.filter((s) => s.topic === topic).map((s) => s.partition));
  return (
    <div className="space-y-6">
      {health.kafkaError && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200">
          Kafka did not answer ({health.kafkaError}): the log&apos;s end offsets are unknown, so lag is shown as 0 and no
          partition can be judged stalled.
        </p>
      )}
      <section aria-label="Summary" className="grid grid-cols-2 gap-3 lg:grid-cols-5">
        <Stat label="Lag" value={formatCount(lag)} tone={health.stalled.length > 0 ? "red" : lag > 0n ? "amber" : "green"}>
          {health.stalled.length > 0
            ? `${health.stalled.length} partition${health.stalled.length === 1 ? "" : "s"} stalled`
            : lag > 0n
              ? "messages not projected yet"
              : "every partition caught up"}
        </Stat>
        <Stat label="Projectors alive" value={String(alive)} tone={alive === 0 || crashed > 0 || stuck > 0 ? "red" : "green"}>
          {crashed > 0 && `${crashed} crashed · `}
          {stuck > 0 && `${stuck} stuck · `}
          {health.unheld > 0 && partitions > 0
            ? `${health.unheld} of ${partitions} partitions held by none`
            : `holding all ${partitions} partitions`}
        </Stat>
        <Stat label="Events, last hour" value={formatCount(health.throughput.total)}>
          in the timelines, by time of the event
        </Stat>
        <Stat
          label="Open dead letters"
          value={formatCount(health.deadLetters.open)}
          tone={health.deadLetters.open > 0 || health.deadLetters.dlqOverdue ? "red" : health.deadLetters.dlqPending > 0 ? "amber" : "green"}
        >
          <Link href="/dead-letters" className="font-medium text-zinc-800 underline underline-offset-2 hover:text-zinc-950">
            Dead letters
          </Link>
          {health.deadLetters.total > health.deadLetters.open && ` · ${formatCount(health.deadLetters.total - health.deadLetters.open)} handled`}
          {health.deadLetters.dlqPending > 0 && ` · ${formatCount(health.deadLetters.dlqPending)} not yet copied to the DLQ topic`}
        </Stat>
        <Stat
          label="Events with personal data in clear"
          value={formatCount(inClear)}
          tone={inClear > 0 ? "amber" : "green"}
        >
          {inClear > 0
            ? `not encrypted (${health.personalDataInClear.filter((s) => s.events > 0).map((s) => `${s.stream} ${formatCount(s.events)}`).join(", ")}): an erasure cannot shred them`
            : "every person's data in the log is encrypted"}
        </Stat>
      </section>

      {(stalled.length > 0 || failing.length > 0) && (
        <StalledSection stalled={stalled} failing={failing} stallAfterMs={health.stallAfterMs} now={health.checkedAt} />
      )}

      <DeadLetterRelay relay={health.deadLetters} stallAfterMs={health.stallAfterMs} now={health.checkedAt} />

      <Section id="health-throughput" title="Events per minute, last hour">
        <ThroughputChart data={health.throughput} />
      </Section>

      <Section id="health-instances" title={`Projector instances (consumer group ${health.group})`}>
        <InstancesTable instances={health.instances} now={health.checkedAt} />
      </Section>

      {health.notifiers.length > 0 && <NotifiersSection notifiers={health.notifiers} now={health.checkedAt} />}

      {rebuild}

      {health.topics.map((topic) => (
        <TopicSection key={topic.topic} topic={topic} stalled={stalledHere(topic.topic)} now={health.checkedAt} />
      ))}
    </div>
  );
}

/**
 * Stalled partitions of the projector and the notifiers in red (a message older than the stall
 * time waits and the position does not move), then partitions failing but not stalled yet in amber.
 */
function StalledSection({
  stalled,
  failing,
  stallAfterMs,
  now,
}: {
  stalled: StalledPartition[];
  failing: PartitionError[];
  stallAfterMs: number;
  now: Date;
}) {
  return (
    <Section
      id="health-stalled"
      title={stalled.length > 0 ? "Stalled partitions" : "Failing partitions"}
      aside={`stalled = lag, no progress and a message older than ${formatMs(stallAfterMs)} waiting`}
    >
      {stalled.length > 0 && (
        <div className="overflow-x-auto">
          <table className="min-w-full text-sm">
            <caption className="sr-only">Stalled partitions</caption>
            <thead className="text-left text-xs tracking-wide text-zinc-600 uppercase">
              <tr>
                <th scope="col" className={th}>Partition</th>
                <th scope="col" className={th}>Consumer group</th>
                <th scope="col" className={`${th} text-right`}>Waiting at offset</th>
                <th scope="col" className={`${th} text-right`}>Lag</th>
                <th scope="col" className={th}>Stalled for</th>
                <th scope="col" className={th}>Held by</th>
                <th scope="col" className={th}>Last error</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-red-100">
              {stalled.map((s) => (
                <tr key={`${s.consumerGroup}|${s.topic}/${s.partition}`} className="bg-red-50 text-red-900">
                  <th scope="row" className={`${td} text-left font-semibold`}>
                    {s.topic} / partition {s.partition}
                  </th>
                  <td className={td}>{s.consumerGroup}</td>
                  <td className={`${td} text-right`}>{formatCount(s.offset)}</td>
                  <td className={`${td} text-right font-semibold`}>{formatCount(s.lag)}</td>
                  <td className={`${td} font-semibold text-red-700`}>
                    {s.stalledForMs === null ? `stalled for over ${formatMs(stallAfterMs)}` : `stalled for ${formatMs(s.stalledForMs)}`}
                  </td>
                  <td className={td}>{s.heldBy ?? <span className="font-semibold">held by no live consumer</span>}</td>
                  <td className="px-3 py-2">{s.error ? <ErrorText error={s.error} now={now} /> : <span className="text-red-700/70">none recorded</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {failing.length > 0 && (
        <div className={stalled.length > 0 ? "mt-4" : ""}>
          {stalled.length > 0 && <h3 className="mb-1 text-xs font-semibold tracking-wide text-zinc-600 uppercase">Failing, not stalled yet</h3>}
          <ul className="divide-y divide-amber-100 text-sm" aria-label="Failing partitions">
            {failing.map((e) => (
              <li key={`${e.consumerGroup}|${e.topic}/${e.partition}`} className="py-1.5 text-amber-900">
                <Badge tone="amber">retrying</Badge> <span className="font-medium">{e.topic} / partition {e.partition}</span>{" "}
                <span className="text-amber-800">({e.consumerGroup})</span>: <ErrorText error={e} now={now} />
              </li>
            ))}
          </ul>
        </div>
      )}
    </Section>
  );
}

function ErrorText({ error: e, now }: { error: PartitionError; now: Date }) {
  return (
    <span className="whitespace-normal">
      <span className="font-mono text-xs break-words">{e.error}</span>
      <span className="block text-xs opacity-80">
        {e.offset !== null && `at offset ${formatCount(e.offset)} · `}
        {formatCount(e.attempts)} attempt{e.attempts === 1 ? "" : "s"} since {formatAgo(e.firstFailedAt, now)} · last{" "}
        <span title={formatDateTime(e.lastFailedAt)}>{formatAgo(e.lastFailedAt, now)}</span>
      </span>
    </span>
  );
}

/** dead_letters is the outbox of the DLQ topics: how many wait for their copy, and why. */
function DeadLetterRelay({ relay, stallAfterMs, now }: { relay: DeadLetterHealth; stallAfterMs: number; now: Date }) {
  if (relay.dlqPending === 0 && !relay.dlqLastError) return null;
  const red = relay.dlqOverdue;
  return (
    <p
      role={red ? "alert" : undefined}
      className={`rounded-md px-3 py-2 text-sm ring-1 ${red ? "bg-red-50 text-red-800 ring-red-200" : "bg-amber-50 text-amber-900 ring-amber-200"}`}
    >
      <span className="font-semibold">
        {formatCount(relay.dlqPending)} dead letter{relay.dlqPending === 1 ? "" : "s"} waiting for {relay.dlqPending === 1 ? "its" : "their"} copy to
        the DLQ topic
      </span>
      {relay.dlqOldestAt && ` (oldest dead-lettered ${formatAgo(relay.dlqOldestAt, now)}${red ? `, over ${formatMs(stallAfterMs)}` : ""})`}
      {relay.dlqLastError && (
        <>
          . Last relay error: <span className="font-mono text-xs">{relay.dlqLastError.error}</span> (attempt {relay.dlqLastError.attempts}
          {relay.dlqLastError.nextAttemptAt && relay.dlqLastError.nextAttemptAt > now
            ? `, next try in ${formatAge(now, relay.dlqLastError.nextAttemptAt)}`
            : ""}
          )
        </>
      )}
      . The dead letters themselves are kept in the database and listed on the dead-letters page.
    </p>
  );
}

function NotifiersSection({ notifiers, now }: { notifiers: ConsumerGroupHealth[]; now: Date }) {
  return (
    <Section id="health-notifiers" title="Notifiers" aside="Their own consumer groups: a stuck notifier never holds up the read model.">
      <div className="overflow-x-auto">
        <table className="min-w-full text-sm">
          <caption className="sr-only">Notifiers</caption>
          <thead className="text-left text-xs tracking-wide text-zinc-600 uppercase">
            <tr>
              <th scope="col" className={th}>Consumer group</th>
              <th scope="col" className={th}>Instances</th>
              <th scope="col" className={`${th} text-right`}>Lag</th>
              <th scope="col" className={th}>Partitions</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100">
            {notifiers.map((n) => {
              const alive = n.instances.filter((i) => i.isAlive).length;
              const crashed = n.instances.filter((i) => i.status === "crashed" || i.status === "stuck");
              const silent = n.instances.filter((i) => i.status === "no heartbeat").length;
              return (
                <tr key={n.group} className={n.stalled.length > 0 ? "bg-red-50" : ""}>
                  <th scope="row" className={`${td} text-left font-medium text-zinc-900`}>{n.group}</th>
                  <td className="px-3 py-2">
                    {alive > 0 ? <Badge tone="green">{alive} alive</Badge> : <Badge tone="red">none alive</Badge>}
                    {crashed.length > 0 && (
                      <>
                        {" "}
                        <Badge tone="red">{crashed.length} crashed or stuck</Badge>
                      </>
                    )}
                    {silent > 0 && (
                      <>
                        {" "}
                        <Badge tone="red">{silent} no heartbeat</Badge>
                      </>
                    )}
                    {crashed.map(
                      (i) =>
                        i.lastError && (
                          <span key={i.instanceId} className="mt-1 block text-xs text-red-800">
                            {i.host} · pid {i.pid}: <span className="font-mono">{i.lastError}</span>
                            {i.lastErrorAt && ` (${formatAgo(i.lastErrorAt, now)})`} · restarted {i.restarts}×
                          </span>
                        ),
                    )}
                  </td>
                  <td className={`${td} text-right ${n.lag !== null && n.lag > 0n ? "font-semibold text-amber-700" : "text-zinc-500"}`}>
                    {n.lag === null ? "unknown" : formatCount(n.lag)}
                  </td>
                  <td className={td}>
                    {n.stalled.length > 0 ? (
                      <span className="font-semibold text-red-700">
                        {n.stalled.length} stalled: {n.stalled.map((s) => `${s.topic} / partition ${s.partition}`).join(", ")}
                      </span>
                    ) : n.failing.length > 0 ? (
                      <span className="text-amber-800">{n.failing.length} failing, retrying</span>
                    ) : (
                      <span className="text-emerald-700">none stalled</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

const statTones = { neutral: "bg-zinc-300", green: "bg-emerald-500", amber: "bg-amber-400", red: "bg-red-500" } as const;

function Stat({
  label,
  value,
  tone = "neutral",
  children,
}: {
  label: string;
  value: string;
  tone?: keyof typeof statTones;
  children: ReactNode;
}) {
  return (
    <div className="rounded-lg border border-zinc-200 bg-white px-4 py-3 shadow-xs">
      <p className="flex items-center gap-2 text-xs font-semibold tracking-wide text-zinc-600 uppercase">
        <span aria-hidden="true" className={`size-2 rounded-full ${statTones[tone]}`} />
        {label}
      </p>
      <p className="mt-1 text-2xl font-semibold text-zinc-900 tabular-nums">{value}</p>
      <p className="mt-0.5 text-xs text-zinc-500">{children}</p>
    </div>
  );
}

function InstancesTable({ instances: all, now }: { instances: ProjectorInstanceView[]; now: Date }) {
  // A crashed instance (no heartbeat) stays in the table; cleanly stopped ones are only counted.
  const instances = all.filter((i) => i.isAlive || !i.stoppedAt);
  const stopped = all.length - instances.length;
  const alive = instances.filter((i) => i.isAlive).length;
  if (instances.length === 0) {
    return (
      <p role="alert" className="text-sm text-red-700">
        No projector is running{stopped > 0 ? ` (${stopped} stopped cleanly in the last 15 minutes)` : ""}: the read model is not
        being updated. Start one with <code>npm run projector</code>.
      </p>
    );
  }
  return (
    <div className="overflow-x-auto">
      {alive === 0 && (
        <p role="alert" className="mb-2 text-sm text-red-700">
          No projector instance is alive: the read model is not being updated.
        </p>
      )}
      <table className="min-w-full text-sm">
        <caption className="sr-only">Projector instances</caption>
        <thead className="text-left text-xs tracking-wide text-zinc-600 uppercase">
          <tr>
            <th scope="col" className={th}>Instance</th>
            <th scope="col" className={th}>Status</th>
            <th scope="col" className={th}>Last heartbeat</th>
            <th scope="col" className={th}>Ran for</th>
            <th scope="col" className={th}>Partitions held</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100">
          {instances.map((i) => (
            <tr key={i.instanceId} className={i.isAlive ? "" : i.status === "crashed" || i.status === "stuck" ? "bg-red-50" : "text-zinc-400"}>
              <td className="px-3 py-2">
                <span className="font-medium text-zinc-900">{i.host}</span>
                <span className="text-zinc-500"> · pid {i.pid}</span>
                {i.metricsPort !== null && <span className="block text-xs text-zinc-500">metrics on :{i.metricsPort}</span>}
              </td>
              <td className="px-3 py-2">
                <InstanceStatusCell instance={i} now={now} />
              </td>
              <td className={td} title={formatDateTime(i.lastHeartbeatAt)}>
                {formatAgo(i.lastHeartbeatAt, now)}
              </td>
              <td className={td} title={`started ${formatDateTime(i.startedAt)}`}>
                {/* A gone instance ran until its last heartbeat (or clean stop). */}
                {formatAge(i.startedAt, i.isAlive ? now : (i.stoppedAt ?? i.lastHeartbeatAt))}
              </td>
              <td className="px-3 py-2">
                {Object.keys(i.assignment).length === 0 ? (
                  <span className="text-zinc-400">{i.isAlive ? "none (rebalancing?)" : "—"}</span>
                ) : (
                  <ul className="space-y-0.5">
                    {Object.entries(i.assignment)
                      .sort(([a], [b]) => a.localeCompare(b))
                      .map(([topic, ps]) => (
                        <li key={topic}>
                          <span className="text-zinc-500">{topic}</span>{" "}
                          <span className="tabular-nums">{formatPartitions(ps)}</span>{" "}
                          <span className="text-xs text-zinc-500">({ps.length})</span>
                        </li>
                      ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {stopped > 0 && (
        <p className="mt-2 px-3 text-xs text-zinc-500">
          {stopped} more stopped cleanly in the last 15 minutes (restarts, scale-down).
        </p>
      )}
    </div>
  );
}

/** Alive, crashed (with its error and restarts), or silent; a consumer that restarted says so even once alive again. */
function InstanceStatusCell({ instance: i, now }: { instance: ProjectorInstanceView; now: Date }) {
  const badge =
    i.status === "alive" ? (
      <Badge tone="green">alive</Badge>
    ) : i.status === "crashed" ? (
      <Badge tone="red">crashed</Badge>
    ) : i.status === "stuck" ? (
      <Badge tone="red">stuck</Badge>
    ) : i.status === "stopped" ? (
      <Badge tone="neutral">stopped</Badge>
    ) : (
      <Badge tone="red">no heartbeat</Badge>
    );
  const showError = i.lastError && (i.status === "crashed" || i.status === "stuck" || i.restarts > 0);
  return (
    <>
      {badge}
      {i.restarts > 0 && <span className="ml-1 text-xs text-zinc-600">restarted {i.restarts}×</span>}
      {showError && (
        <span
          className={`mt-1 block max-w-md text-xs whitespace-normal ${i.status === "crashed" || i.status === "stuck" ? "text-red-800" : "text-amber-800"}`}
        >
          {i.status === "crashed" ? "Crashed" : i.status === "stuck" ? "Stuck, last progress" : "Last crash"}
          {i.status === "stuck" ? (
            <span title={formatDateTime(i.lastHeartbeatAt)}> {formatAgo(i.lastHeartbeatAt, now)}</span>
          ) : (
            i.lastErrorAt && <span title={formatDateTime(i.lastErrorAt)}> {formatAgo(i.lastErrorAt, now)}</span>
          )}
          :{" "}
          <span className="font-mono break-words">{i.lastError}</span>
        </span>
      )}
    </>
  );
}

function TopicSection({ topic, stalled, now }: { topic: TopicHealth; stalled: ReadonlySet<number>; now: Date }) {
  const behind = topic.partitions.filter((p) => p.lag > 0n);
  const id = `health-topic-${topic.topic.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  return (
    <Section
      id={id}
      title={`Topic ${topic.topic}`}
      aside={
        <>
          {topic.partitions.length} partitions · {formatCount(topic.endOffset)} messages · lag {formatCount(topic.lag)}
          {topic.lastEventAt && ` · last event projected ${formatAgo(topic.lastEventAt, now)}`}
        </>
      }
    >
      {behind.length === 0 ? (
        <p className="text-sm text-emerald-700">All {topic.partitions.length} partitions are caught up.</p>
      ) : (
        <PartitionTable caption={`Partitions of ${topic.topic} behind`} partitions={behind} stalled={stalled} now={now} />
      )}
      {topic.partitions.length > 0 && (
        <details className="mt-3 text-sm">
          <summary className="cursor-pointer text-zinc-600 hover:text-zinc-900">All {topic.partitions.length} partitions</summary>
          <div className="mt-2">
            <PartitionTable
              caption={`All partitions of ${topic.topic}`}
              partitions={[...topic.partitions].sort((a, b) => a.partition - b.partition)}
              stalled={stalled}
              now={now}
            />
          </div>
        </details>
      )}
    </Section>
  );
}

function PartitionTable({
  caption,
  partitions,
  stalled,
  now,
}: {
  caption: string;
  partitions: PartitionHealth[];
  stalled: ReadonlySet<number>;
  now: Date;
}) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="text-left text-xs tracking-wide text-zinc-600 uppercase">
          <tr>
            <th scope="col" className={th}>Partition</th>
            <th scope="col" className={`${th} text-right`}>Log end</th>
            <th scope="col" className={`${th} text-right`}>Projected to</th>
            <th scope="col" className={`${th} text-right`}>Lag</th>
            <th scope="col" className={th}>Last event projected</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100">
          {partitions.map((p) => (
            <tr key={p.partition} className={stalled.has(p.partition) ? "bg-red-50" : ""}>
              <th scope="row" className={`${td} text-left font-medium text-zinc-900`}>
                {p.partition}
                {stalled.has(p.partition) && (
                  <>
                    {" "}
                    <Badge tone="red">stalled</Badge>
                  </>
                )}
              </th>
              <td className={`${td} text-right`}>{formatCount(p.endOffset)}</td>
              <td className={`${td} text-right`}>{p.position === null ? <span className="text-zinc-400">not started</span> : formatCount(p.position)}</td>
              <td className={`${td} text-right ${stalled.has(p.partition) ? "font-semibold text-red-700" : p.lag > 0n ? "font-semibold text-amber-700" : "text-zinc-500"}`}>{formatCount(p.lag)}</td>
              <td className={td}>
                {p.lastEventAt ? (
                  <span title={`event ${formatDateTime(p.lastEventAt)}${p.projectedAt ? `, projected ${formatDateTime(p.projectedAt)}` : ""}`}>
                    {formatAgo(p.lastEventAt, now)}
                  </span>
                ) : (
                  <span className="text-zinc-400">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
