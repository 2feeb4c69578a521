/**
 * Email notifier worker (consumer group notifier-email): a welcome mail on
 * UserCreated, a notice on RoleAssignedToUser / RoleUnassignedFromUser. Over
 * SMTP to SMTP_URL, or as .eml files under MAIL_DIR without it.
 */
import { createEmailNotifier } from "@/lib/notify/notifiers";
import { runNotifierWorker } from "@/lib/notify/run-worker";

runNotifierWorker("notifier-email", createEmailNotifier);
