/**
 * Email notifier worker (consumer group notifier-email): a welcome mail on
 * UserCreated, a notice on RoleAssignedToUser / RoleUnassignedFromUser. Over
 * SMTP to SMTP_URL, or as .eml files under MAIL_DIR without it.
 */
import { createEmailNotifier } from "@/modules/notifications/notifiers";
import { runNotifierWorker } from "@/modules/notifications/run-worker";

runNotifierWorker("notifier-email", createEmailNotifier);
