/** A thread for thread.unit.test.ts: does what its input says. */
import fs from "node:fs";
import { threadMain } from "./thread";

/** The nice value of a task of this process (/proc/<pid>/task/<tid>/stat, field 19). */
const niceOf = (tid: string) => Number(fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);

threadMain(async (input: { do: "answer" | "fail" | "exit" | "nice"; value?: string }) => {
  if (input.do === "fail") throw new Error(`asked to fail: ${input.value}`);
  if (input.do === "exit") process.exit(3);
  if (input.do === "nice") {
    const tids = fs.readdirSync(`/proc/${process.pid}/task`);
    return { main: niceOf(String(process.pid)), threads: tids.map(niceOf) };
  }
  return { echoed: input.value, env: process.env.THREAD_FIXTURE ?? null };
});
