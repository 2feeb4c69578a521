/**
 * kafkajs 2.2.4 keeps every idle connection busy: its request queue's `scheduleCheckPendingRequests`
 * arms a timer for `throttledUntil - now`, negative when nothing is throttled, also when nothing is
 * pending, and the check it runs arms the next one, so each connection runs a 1 ms timer loop for
 * as long as it is open (tulios/kafkajs#1556, #1604, #1704; the fixes proposed, #1667 and #1768,
 * were never released). A worker of this project idle on its topics spent about 40 ms of CPU a
 * second in that loop (`--cpu-prof`, 2026-12-02), and every process here holds several connections.
 *
 * The same method, less the loop: with nothing pending and no throttle to wait out, it arms
 * nothing. Nothing is lost by that: a request pushed later is sent at once or, when it has to wait,
 * queued and scheduled by `push`; a request fulfilled or timed out checks the queue itself; request
 * timeouts have an interval of their own (`scheduleRequestTimeoutCheck`).
 */
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** As in kafkajs: how soon a queue with requests pending and no throttle is checked again. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

type Queue = InstanceType<typeof RequestQueue>;

function scheduleCheckPendingRequests(this: Queue): void {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
  else if (scheduleAt <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
}

/** The method as kafkajs shipped it (the unit test shows its loop on the installed version). */
export const shippedScheduleCheckPendingRequests = RequestQueue.prototype.scheduleCheckPendingRequests;

RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
