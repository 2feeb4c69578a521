/**
 * The email notifier's channel: the welcome mail and role notices, over SMTP
 * to SMTP_URL with nodemailer; without SMTP_URL each mail is written as an
 * .eml file under MAIL_DIR (the raw message nodemailer would have sent).
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";
import type { NotifierConfig } from "@/lib/config";
import type { DomainEvent } from "@/modules";
import type { Known } from "./known";
import { planEmail, type EmailMessage } from "./messages";
import { DEFAULT_RETRY, PermanentSendError, type RetryPolicy } from "@/lib/notify/retry";
import type { Channel } from "@/lib/notify/subscriber";

type MailConfig = Pick<NotifierConfig, "SMTP_URL" | "MAIL_FROM" | "MAIL_DIR" | "CONSOLE_URL">;

/**
 * The same event always yields the same Message-ID, so the one duplicate the
 * at-least-once window can produce is recognisable (and dropped by mail
 * systems that dedupe on it).
 */
export const messageIdOf = (event: DomainEvent) => `<${event.id}@notifier-email.admin-console>`;

/**
 * 5xx to RCPT TO or DATA is this message's own fault (unknown mailbox, content
 * refused): retrying gets the same answer, and would hold every later mail of
 * the partition hostage. Every other failure (connection, timeout, 4xx, a 5xx
 * to AUTH or MAIL FROM, which are configuration) is retried.
 */
function isRefusedForGood(error: unknown): boolean {
  const e = error as { responseCode?: number; command?: string };
  return (
    typeof e.responseCode === "number" &&
    e.responseCode >= 500 &&
    e.responseCode < 600 &&
    (e.command === "RCPT TO" || e.command === "DATA")
  );
}

export function createEmailChannel(config: MailConfig, retry: RetryPolicy = DEFAULT_RETRY): Channel<EmailMessage, DomainEvent, Known> {
  const settings = { consoleUrl: config.CONSOLE_URL };
  const timeout = retry.attemptTimeoutMs;
  const smtp = config.SMTP_URL
    ? nodemailer.createTransport({
        url: config.SMTP_URL,
        // Each stage of an attempt is bounded, so a hung server costs one
        // timeout and a retry, never a stuck partition.
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        dnsTimeout: timeout,
      })
    : null;
  const files = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  const mailDir = path.resolve(config.MAIL_DIR);

  const compose = (message: EmailMessage, event: DomainEvent) => ({
    from: config.MAIL_FROM,
    to: { name: message.to.name, address: message.to.address },
    subject: message.subject,
    text: message.text,
    messageId: messageIdOf(event),
    date: new Date(event.occurredAt),
    headers: { "X-Event-Id": event.id, "X-Event-Type": event.type },
  });

  return {
    destination: smtp ? `SMTP ${new URL(config.SMTP_URL!).host}` : `.eml files in ${mailDir}`,
    plan: (event, known) => planEmail(event, known, settings),
    async send(message, event) {
      if (smtp) {
        try {
          await smtp.sendMail(compose(message, event));
        } catch (error) {
          if (isRefusedForGood(error)) throw new PermanentSendError(String((error as Error).message));
          throw error;
        }
        return;
      }
      const info = await files.sendMail(compose(message, event));
      // Named by the event: a resend overwrites the same file, so locally nothing is ever doubled.
      const file = path.join(mailDir, `${event.occurredAt.replace(/[:.]/g, "-")}-${message.kind}-${event.id}.eml`);
      await mkdir(mailDir, { recursive: true });
      await writeFile(`${file}.tmp`, info.message as Buffer);
      await rename(`${file}.tmp`, file);
    },
    close() {
      smtp?.close();
      files.close();
    },
  };
}
