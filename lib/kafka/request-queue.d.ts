/** kafkajs' internal request queue (lib/kafka/request-queue-fix.ts patches one of its methods). */
declare module "kafkajs/src/network/requestQueue/index.js" {
  const RequestQueue: {
    new (options: { maxInFlightRequests: number | null; requestTimeout: number; enforceRequestTimeout: boolean; clientId: string; broker: string; logger: unknown }): {
      pending: unknown[];
      throttledUntil: number;
      throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
      scheduleCheckPendingRequests(): void;
      checkPendingRequests(): void;
      destroy(): void;
    };
    prototype: { scheduleCheckPendingRequests(): void };
  };
  export default RequestQueue;
}
