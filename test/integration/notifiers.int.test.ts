/**
 * The email and Slack notifiers on the real broker and PostgreSQL, against a
 * real SMTP server (smtp-server) and an HTTP server standing in for Slack's
 * webhook, both in this process.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { notifierConfig, type NotifierConfig } from "@/lib/config";
import { createEmailNotifier, createSlackNotifier, type NotifierFactory } from "@/modules/notifications/notifiers";
import type { Subscriber } from "@/lib/notify/subscriber";
import type { Projector } from "@/lib/projection/projector";
import { createRole, deleteRole } from "@/modules/roles/application/role-commands";
import { assignRole, createUser, deleteUser, unassignRole } from "@/modules/users/application/user-commands";
import { createTestContext, startProjector, waitUntilCaughtUp, type TestContext } from "../integration";
import { ERASED } from "@/lib/privacy/personal-data";
import { eraseUser } from "@/modules/privacy/application/erase-person";
import { serde } from "@/modules";

interface Mail {
  to: string[];
  raw: string;
  subject: string;
  body: string;
  messageId: string;
}

let t: TestContext;
let projector: Projector;
let smtp: SMTPServer;
let smtpPort: number;
let slack: Server;
let slackUrl: string;
const mails: Mail[] = [];
const posts: Array<{ text: string }> = [];
let smtpAttempts = 0;
/** While true, every message is refused with 451 (a temporary failure) after its data was sent. */
let smtpDown = false;
/** Slack answers 500 to this many requests before accepting again. */
let slackFailures = 0;
let slackAttempts = 0;
const logs: Array<Record<string, unknown>> = [];
const running: Subscriber[] = [];
const fast = { initialMs: 100, maxMs: 800, attemptTimeoutMs: 5_000 };

/** Quoted-printable soft breaks and escapes, enough to read nodemailer's text parts. */
const decodeQp = (s: string) =>
  s.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** RFC 2047 encoded words (nodemailer Q-encodes a subject holding quotes). */
const decodeWords = (s: string) =>
  s.replace(/\?=\s+=\?/g, "?==?").replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_, q: string) =>
    Buffer.from(decodeQp(q.replaceAll("_", " ")), "latin1").toString("utf8"),
  );

function parseMail(raw: string, to: string[]): Mail {
  const [head = "", ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const header = (name: string) => unfolded.match(new RegExp(`^${name}: (.*)$`, "im"))?.[1]?.trim() ?? "";
  const body = rest.join("\n\n");
  return {
    to,
    raw,
    subject: decodeWords(header("Subject")),
    messageId: header("Message-ID"),
    body: /quoted-printable/i.test(header("Content-Transfer-Encoding")) ? decodeQp(body) : body,
  };
}

function config(overrides: Record<string, string> = {}): NotifierConfig {
  return notifierConfig({
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_FROM: "Admin Console <console@example.com>",
    SLACK_WEBHOOK_URL: slackUrl,
    CONSOLE_URL: "https://console.example",
    NOTIFIER_EMAIL_GROUP_ID: `notifier-email-${t.id}`,
    NOTIFIER_SLACK_GROUP_ID: `notifier-slack-${t.id}`,
    ...overrides,
  });
}

async function start(create: NotifierFactory, notifier: NotifierConfig = config()): Promise<Subscriber> {
  const s = create({ db: t.db, config: t.config, notifier, retry: fast, log: (entry) => logs.push(entry) });
  running.push(s);
  await s.start();
  return s;
}

async function stop(s: Subscriber) {
  await s.stop();
  running.splice(running.indexOf(s), 1);
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until `group` has committed the end of every non-empty partition of the event topics. */
async function waitForGroup(group: string, timeoutMs = 30_000) {
  await waitFor(
    `${group} to reach the end of the log`,
    async () => {
      for (const topic of Object.values(t.topics)) {
        const ends = await t.admin.fetchTopicOffsets(topic);
        const [committed] = await t.admin.fetchOffsets({ groupId: group, topics: [topic] });
        for (const end of ends) {
          if (end.high === "0") continue;
          const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? "-1";
          if (BigInt(at) < BigInt(end.high)) return false;
        }
      }
      return true;
    },
    timeoutMs,
  );
}

const mailsTo = (address: string) => mails.filter((m) => m.to.includes(address));

beforeAll(async () => {
  t = await createTestContext("notifiers");
  projector = await startProjector(t);
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("bounce")) {
        callback(Object.assign(new Error("5.1.1 No such mailbox"), { responseCode: 550 }));
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        smtpAttempts++;
        if (smtpDown) return callback(Object.assign(new Error("4.3.0 Try again later"), { responseCode: 451 }));
        mails.push(parseMail(Buffer.concat(chunks).toString("utf8"), session.envelope.rcptTo.map((r) => r.address)));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  slack = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      slackAttempts++;
      if (slackFailures > 0) {
        slackFailures--;
        res.writeHead(500).end("internal_error");
        return;
      }
      posts.push(JSON.parse(body) as { text: string });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, "127.0.0.1", resolve));
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/secret`;
});

afterEach(async () => {
  smtpDown = false;
  slackFailures = 0;
  await Promise.all([...running].map(stop));
});

afterAll(async () => {
  await projector?.stop();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => (slack ? slack.close(() => resolve()) : resolve()));
  await t?.close();
});

describe("notifiers", () => {
  it("mail a welcome and role notices; Slack hears of admin gained and lost and of a deletion; a redelivery sends nothing twice", async () => {
    const email = await start(createEmailNotifier);
    const slackNotifier = await start(createSlackNotifier);
    const admin = await createRole(t.deps, t.ctx, { name: "admin" });
    const ops = await createRole(t.deps, t.ctx, { name: "ops" });
    const ada = await createUser(t.deps, t.ctx, { email: "ada@example.com", name: "Ada Lovelace" });
    const userId = ada.aggregateId;
    await assignRole(t.deps, t.ctx, { userId, roleId: admin.aggregateId });
    await assignRole(t.deps, t.ctx, { userId, roleId: ops.aggregateId });
    await unassignRole(t.deps, t.ctx, { userId, roleId: admin.aggregateId });
    await deleteRole(t.deps, t.ctx, { roleId: ops.aggregateId, expectedVersion: 1 });
    await deleteUser(t.deps, t.ctx, { userId, expectedVersion: 5 });

    await waitFor("five mails to ada", () => mailsTo("ada@example.com").length >= 5);
    expect(mailsTo("ada@example.com").map((m) => m.subject)).toEqual([
      "Welcome, Ada Lovelace",
      'You now have the role "admin"',
      'You now have the role "ops"',
      'The role "admin" was removed from your account',
      'The role "ops" was removed from your account',
    ]);
    const [welcome, , opsGiven, , opsGone] = mailsTo("ada@example.com");
    expect(welcome!.raw).toMatch(/^From: Admin Console <console@example.com>$/m);
    expect(welcome!.raw).toMatch(/^To: Ada Lovelace <ada@example.com>$/m);
    expect(welcome!.messageId).toBe(`<${ada.events[0]!.event.id}@notifier-email.admin-console>`);
    expect(welcome!.body).toContain("an account has been created for you with the address ada@example.com");
    expect(opsGiven!.body).toContain('you have been given the role "ops" by the service "integration-test"');
    expect(opsGiven!.body).toContain(`https://console.example/users/${userId}`);
    expect(opsGone!.body).toContain('the role "ops" has been removed from your account because the role was deleted');

    await waitFor("three Slack posts", () => posts.length >= 3);
    expect(posts.map((p) => p.text)).toEqual([
      `:key: *Ada Lovelace* (ada@example.com) was given the *admin* role by the service "integration-test". <https://console.example/users/${userId}|Open in the console>`,
      `:lock: *Ada Lovelace* (ada@example.com) lost the *admin* role by the service "integration-test". <https://console.example/users/${userId}|Open in the console>`,
      `:wastebasket: *Ada Lovelace* (ada@example.com) was deleted by the service "integration-test". <https://console.example/users/${userId}|Open in the console>`,
    ]);
    const cfg = config();
    await waitForGroup(cfg.NOTIFIER_EMAIL_GROUP_ID);
    await waitForGroup(cfg.NOTIFIER_SLACK_GROUP_ID);
    const sent = await t.db.notificationSent.groupBy({ by: ["consumer", "outcome"], _count: true });
    expect(sent.map((s) => [s.consumer.replace(`-${t.id}`, ""), s.outcome, s._count]).sort()).toEqual([
      ["notifier-email", "sent", 5],
      ["notifier-slack", "sent", 3],
    ]);

    // Redelivery: the groups' positions lost, and the
    // welcome event republished with its id, as a producer retry would.
    await stop(email);
    await stop(slackNotifier);
    // Deleting the groups forgets their committed offsets: they start again from the beginning.
    await t.admin.deleteGroups([cfg.NOTIFIER_EMAIL_GROUP_ID, cfg.NOTIFIER_SLACK_GROUP_ID]);
    const producer = t.kafka.producer();
    await producer.connect();
    await producer.send({ topic: t.topics.users, messages: [{ key: userId, value: JSON.stringify(ada.events[0]!.event) }] });
    await producer.disconnect();
    await start(createEmailNotifier);
    await start(createSlackNotifier);
    await waitForGroup(cfg.NOTIFIER_EMAIL_GROUP_ID);
    await waitForGroup(cfg.NOTIFIER_SLACK_GROUP_ID);
    expect(mailsTo("ada@example.com")).toHaveLength(5);
    expect(posts).toHaveLength(3);

    // Caught up means idle: no batch is fetched and handled again.
    const batches = () => logs.filter((l) => l.msg === "batch handled" && (l.messages as number) > 0).length;
    const before = batches();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(batches()).toBe(before);
  });

  it("retries a failing SMTP server and webhook until they answer, while the projector carries on", async () => {
    const email = await start(createEmailNotifier);
    await start(createSlackNotifier);
    const admin = await createRole(t.deps, t.ctx, { name: "Admin" });
    const grace = await createUser(t.deps, t.ctx, { email: "grace@example.com", name: "Grace Hopper" });
    await waitForGroup(config().NOTIFIER_EMAIL_GROUP_ID);
    expect(mailsTo("grace@example.com")).toHaveLength(1);

    smtpDown = true;
    slackFailures = 3;
    const attemptsBefore = smtpAttempts;
    const slackBefore = slackAttempts;
    const postsBefore = posts.length;
    await assignRole(t.deps, t.ctx, { userId: grace.aggregateId, roleId: admin.aggregateId });
    // The read model is not held up: the projector has the assignment while the mail cannot go.
    await waitUntilCaughtUp(t);
    expect(await t.db.userRole.count({ where: { userId: grace.aggregateId } })).toBe(1);
    await waitFor("three refused attempts", () => smtpAttempts - attemptsBefore >= 3);
    expect(mailsTo("grace@example.com")).toHaveLength(1);
    const assignment = (await t.db.userEvent.findFirstOrThrow({ where: { userId: grace.aggregateId, type: "RoleAssignedToUser" } })).eventId;
    const key = { consumer_eventId: { consumer: config().NOTIFIER_EMAIL_GROUP_ID, eventId: assignment } };
    expect(await t.db.notificationSent.findUnique({ where: key })).toBeNull();
    expect(logs.some((l) => l.msg === "send failed; retrying" && String(l.error).includes("451"))).toBe(true);

    // A restart in the middle of the retries neither waits them out nor loses the mail.
    const stopping = Date.now();
    await stop(email);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    const attemptsAtRestart = smtpAttempts;
    await start(createEmailNotifier);
    await waitFor("refused attempts after the restart", () => smtpAttempts - attemptsAtRestart >= 2);

    smtpDown = false;
    const notice = await waitFor("the notice, once SMTP is back", () => mailsTo("grace@example.com")[1]);
    expect(notice.subject).toBe('You now have the role "Admin"');
    await waitFor("the Slack post after three 500s", () => posts.length > postsBefore);
    expect(slackAttempts - slackBefore).toBe(4);
    expect(posts.at(-1)?.text).toContain("*Grace Hopper* (grace@example.com) was given the *admin* role");
    await waitForGroup(config().NOTIFIER_EMAIL_GROUP_ID);
    expect(mailsTo("grace@example.com")).toHaveLength(2);
    expect(logs.some((l) => l.msg === "sent" && (l.attempts as number) > 1)).toBe(true);
  });

  it("gives up on a recipient the server refuses for good, and goes on", async () => {
    await start(createEmailNotifier);
    const bounce = await createUser(t.deps, t.ctx, { email: "bounce@example.com", name: "Nobody" });
    await waitFor("the refusal recorded", () =>
      t.db.notificationSent.findUnique({
        where: { consumer_eventId: { consumer: config().NOTIFIER_EMAIL_GROUP_ID, eventId: bounce.events[0]!.event.id } },
      }),
    ).then((row) => expect(row.outcome).toBe("rejected"));
    expect(logs.some((l) => l.msg === "refused for good; not retried" && String(l.error).includes("550"))).toBe(true);
    await createUser(t.deps, t.ctx, { email: "after-bounce@example.com", name: "After" });
    await waitFor("the next welcome", () => mailsTo("after-bounce@example.com").length === 1);
  });

  it("skips what it cannot decode, and folds but does not send events older than NOTIFY_MAX_AGE_HOURS", async () => {
    await start(createEmailNotifier);
    const userId = randomUUID();
    const old = {
      id: randomUUID(),
      type: "UserCreated",
      schemaVersion: 1,
      aggregateId: userId,
      sequence: 1,
      occurredAt: new Date(Date.now() - 10 * 24 * 3_600_000).toISOString(),
      actor: { kind: "service", name: "importer" },
      correlationId: randomUUID(),
      causationId: null,
      payload: { email: "old@example.com", name: "Old Timer" },
    };
    const role = await createRole(t.deps, t.ctx, { name: "auditor" });
    const producer = t.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: t.topics.users,
      messages: [
        { key: userId, value: "this is not an event" },
        { key: userId, value: JSON.stringify(old) },
      ],
    });
    await producer.disconnect();
    // The command side learns the imported user from the log via the projector.
    await waitUntilCaughtUp(t);
    await assignRole(t.deps, t.ctx, { userId, roleId: role.aggregateId });
    const notice = await waitFor("the notice to the imported user", () => mailsTo("old@example.com")[0]);
    expect(notice.subject).toBe('You now have the role "auditor"');
    expect(mailsTo("old@example.com")).toHaveLength(1); // no welcome ten days late
    expect(logs.some((l) => l.msg === "skipped: cannot decode (dead-lettered by the projector)")).toBe(true);
    expect(logs.some((l) => l.msg === "not sent: older than NOTIFY_MAX_AGE_HOURS" && l.eventId === old.id)).toBe(true);
  });

  it("writes .eml files without SMTP_URL, and logs instead of posting without SLACK_WEBHOOK_URL", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "notifier-mail-"));
    try {
      const local = config({ SMTP_URL: "", SLACK_WEBHOOK_URL: "", MAIL_DIR: dir, NOTIFIER_EMAIL_GROUP_ID: `eml-${t.id}`, NOTIFIER_SLACK_GROUP_ID: `noslack-${t.id}` });
      const postsBefore = posts.length;
      await start(createEmailNotifier, local);
      await start(createSlackNotifier, local);
      expect(logs.some((l) => String(l.msg).includes("SLACK_WEBHOOK_URL is not set"))).toBe(true);
      await waitForGroup(local.NOTIFIER_EMAIL_GROUP_ID);
      await waitForGroup(local.NOTIFIER_SLACK_GROUP_ID);
      const files = await readdir(dir);
      // Every welcome and notice of this file's earlier tests, once each (the refused one too: a file cannot bounce).
      expect(files.filter((f) => f.endsWith(".eml")).length).toBe(
        await t.db.notificationSent.count({ where: { consumer: local.NOTIFIER_EMAIL_GROUP_ID } }),
      );
      const welcomes = await Promise.all(files.filter((f) => f.includes("-welcome-")).map((f) => readFile(path.join(dir, f), "utf8")));
      expect(welcomes.some((w) => /^To: Ada Lovelace <ada@example.com>$/m.test(w) && /^Subject: Welcome, Ada Lovelace$/m.test(w))).toBe(true);
      expect(posts.length).toBe(postsBefore);
      expect(logs.some((l) => l.msg === "not sent: SLACK_WEBHOOK_URL is not set" && l.kind === "user-deleted")).toBe(true);
      expect(await t.db.notificationSent.count({ where: { consumer: local.NOTIFIER_SLACK_GROUP_ID } })).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it("an erasure read before its transaction commits (key not yet destroyed) still sends nothing about the person", async () => {
    const group = config({ NOTIFIER_EMAIL_GROUP_ID: `early-${t.id}`, NOTIFIER_SLACK_GROUP_ID: `early-s-${t.id}` });
    await start(createEmailNotifier, group);
    await start(createSlackNotifier, group);
    const admin = await createRole(t.deps, t.ctx, { name: `admin` });
    const fay = await createUser(t.deps, t.ctx, { email: "fay.early@example.com", name: "Fay Early" });
    await assignRole(t.deps, t.ctx, { userId: fay.aggregateId, roleId: admin.aggregateId });
    await waitFor("Fay's welcome and role mails", () => mailsTo("fay.early@example.com").length >= 2);
    await waitFor("the Slack post about Fay", () => posts.some((p) => p.text.includes("Fay Early")));
    const postsBefore = posts.length;
    const mailsBefore = mails.length;
    // The erasure's two events as the broker has them between its ack and the erasure's commit:
    // appended together, while her key (no tombstone yet) still reads.
    const actor = { kind: "service", name: "integration-test" } as const;
    const at = new Date().toISOString();
    const base = { aggregateId: fay.aggregateId, occurredAt: at, actor, correlationId: randomUUID(), causationId: null, schemaVersion: 1 };
    await t.appender.append(
      [
        { ...base, id: randomUUID(), type: "UserDeleted", sequence: 3, payload: {} },
        { ...base, id: randomUUID(), type: "UserErased", sequence: 4, payload: { reason: "GDPR request" } },
      ] as never,
      serde,
    );
    await waitForGroup(group.NOTIFIER_EMAIL_GROUP_ID);
    await waitForGroup(group.NOTIFIER_SLACK_GROUP_ID);
    const sent = [...mails.slice(mailsBefore).map((m) => m.raw), ...posts.slice(postsBefore).map((p) => p.text)];
    expect(sent.filter((m) => m.includes("Fay") || m.includes("fay.early"))).toEqual([]);
    await Promise.all([...running].map(stop));
  });

  it("after an erasure, groups reading the log from the beginning send nothing about the person, and keep no copy of them", async () => {
    const first = config({ NOTIFIER_EMAIL_GROUP_ID: `erase-1-${t.id}`, NOTIFIER_SLACK_GROUP_ID: `erase-1s-${t.id}` });
    await start(createEmailNotifier, first);
    await start(createSlackNotifier, first);
    const admin = await createRole(t.deps, t.ctx, { name: `admin` });
    const erin = await createUser(t.deps, t.ctx, { email: "erin.erased@example.com", name: "Erin Erased" });
    await assignRole(t.deps, t.ctx, { userId: erin.aggregateId, roleId: admin.aggregateId });
    await waitFor("Erin's welcome and role mails", () => mailsTo("erin.erased@example.com").length >= 2);
    await waitFor("the Slack post about Erin", () => posts.some((p) => p.text.includes("Erin Erased")));
    const mailsBefore = mails.length;
    const postsBefore = posts.length;

    await eraseUser(t.deps, t.ctx, { userId: erin.aggregateId, reason: "GDPR request" });
    await waitForGroup(first.NOTIFIER_EMAIL_GROUP_ID);
    await waitForGroup(first.NOTIFIER_SLACK_GROUP_ID);
    const copies = await t.db.$queryRaw<{ email: string; name: string }[]>`
      SELECT email, name FROM notifier_users WHERE user_id = ${erin.aggregateId}::uuid`;
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.every((c) => c.email === ERASED && c.name === ERASED)).toBe(true);
    await Promise.all([...running].map(stop));

    // New groups: the whole log again, Erin's events read with her key destroyed.
    const fresh = config({ NOTIFIER_EMAIL_GROUP_ID: `erase-2-${t.id}`, NOTIFIER_SLACK_GROUP_ID: `erase-2s-${t.id}` });
    await start(createEmailNotifier, fresh);
    await start(createSlackNotifier, fresh);
    await waitForGroup(fresh.NOTIFIER_EMAIL_GROUP_ID);
    await waitForGroup(fresh.NOTIFIER_SLACK_GROUP_ID);
    const sentSince = [...mails.slice(mailsBefore).map((m) => m.raw), ...posts.slice(postsBefore).map((p) => p.text)];
    expect(sentSince.length).toBeGreaterThan(0); // the others' messages went out again
    expect(sentSince.filter((m) => m.includes("Erin") || m.includes("erin.erased") || m.includes(ERASED) || m.includes(erin.aggregateId))).toEqual([]);
    expect(JSON.stringify(logs)).not.toContain("erin.erased@example.com");
  });
});
