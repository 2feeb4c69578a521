/** The health page's sections (server components). */
import Link from "next/link";
import type { ReactNode } from "react";
import { Badge } from "@/lib/ui/badge";
import { formatDateTime } from "@/lib/ui/format";
import { formatPartitions, type Health, type PartitionHealth, type ProjectorInstanceView, type TopicHealth } from "../read/health";
import { formatAge, formatAgo, formatCount } from "./format";
import { Section } from "./section";
import { ThroughputChart } from "./throughput-chart";

const th = "px-3 py-2 font-semibold whitespace-nowrap";
const td = "px-3 py-2 whitespace-nowrap tabular-nums";

/** `rebuild`: the rebuild card (rebuild-panel.tsx), shown after the instances. */
export function HealthView({ health, rebuild }: { health: Health; rebuild?: ReactNode }) {
  const lag = health.topics.reduce((n, t) => n + t.lag, 0n);
  const alive = health.instances.filter((i) => i.isAlive).length;
  const partitions = health.topics.reduce((n, t) => n + t.partitions.length, 0);
  return (
    <div className="space-y-6">
      {health.kafkaError && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 ring-1 ring-red-200">
          Kafka did not answer ({health.kafkaError}): the log&apos;s end offsets are unknown, so lag is shown as 0.
        </p>
      )}
      <section aria-label="Summary" className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Stat label="Lag" value={formatCount(lag)} tone={lag > 0n ? "amber" : "green"}>
          {lag > 0n ? "messages not projected yet" : "every partition caught up"}
        </Stat>
        <Stat label="Projectors alive" value={String(alive)} tone={alive > 0 ? "green" : "red"}>
          {health.unheld > 0 && partitions > 0
            ? `${health.unheld} of ${partitions} partitions held by none`
            : `holding all ${partitions} partitions`}
        </Stat>
        <Stat label="Events, last hour" value={formatCount(health.throughput.total)}>
          in the timelines, by time of the event
        </Stat>
        <Stat label="Open dead letters" value={formatCount(health.deadLetters.open)} tone={health.deadLetters.open > 0 ? "red" : "green"}>
          <Link href="/dead-letters" className="font-medium text-zinc-800 underline underline-offset-2 hover:text-zinc-950">
            Dead letters
          </Link>
          {health.deadLetters.total > health.deadLetters.open && ` · ${formatCount(health.deadLetters.total - health.deadLetters.open)} handled`}
        </Stat>
      </section>

      <Section id="health-throughput" title="Events per minute, last hour">
        <ThroughputChart data={health.throughput} />
      </Section>

      <Section id="health-instances" title={`Projector instances (consumer group ${health.group})`}>
        <InstancesTable instances={health.instances} now={health.checkedAt} />
      </Section>

      {rebuild}

      {health.topics.map((topic) => (
        <TopicSection key={topic.topic} topic={topic} now={health.checkedAt} />
      ))}
    </div>
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
            <tr key={i.instanceId} className={i.isAlive ? "" : "text-zinc-400"}>
              <td className="px-3 py-2">
                <span className="font-medium text-zinc-900">{i.host}</span>
                <span className="text-zinc-500"> · pid {i.pid}</span>
                {i.metricsPort !== null && <span className="block text-xs text-zinc-500">metrics on :{i.metricsPort}</span>}
              </td>
              <td className={td}>
                {i.isAlive ? <Badge tone="green">alive</Badge> : <Badge tone="red">no heartbeat</Badge>}
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

function TopicSection({ topic, now }: { topic: TopicHealth; now: Date }) {
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
        <PartitionTable caption={`Partitions of ${topic.topic} behind`} partitions={behind} now={now} />
      )}
      {topic.partitions.length > 0 && (
        <details className="mt-3 text-sm">
          <summary className="cursor-pointer text-zinc-600 hover:text-zinc-900">All {topic.partitions.length} partitions</summary>
          <div className="mt-2">
            <PartitionTable
              caption={`All partitions of ${topic.topic}`}
              partitions={[...topic.partitions].sort((a, b) => a.partition - b.partition)}
              now={now}
            />
          </div>
        </details>
      )}
    </Section>
  );
}

function PartitionTable({ caption, partitions, now }: { caption: string; partitions: PartitionHealth[]; now: Date }) {
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
            <tr key={p.partition}>
              <th scope="row" className={`${td} text-left font-medium text-zinc-900`}>{p.partition}</th>
              <td className={`${td} text-right`}>{formatCount(p.endOffset)}</td>
              <td className={`${td} text-right`}>{p.position === null ? <span className="text-zinc-400">not started</span> : formatCount(p.position)}</td>
              <td className={`${td} text-right ${p.lag > 0n ? "font-semibold text-amber-700" : "text-zinc-500"}`}>{formatCount(p.lag)}</td>
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
